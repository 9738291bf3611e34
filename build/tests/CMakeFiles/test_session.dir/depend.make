# Empty dependencies file for test_session.
# This may be replaced when dependencies are built.
