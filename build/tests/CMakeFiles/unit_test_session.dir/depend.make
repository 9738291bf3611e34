# Empty dependencies file for unit_test_session.
# This may be replaced when dependencies are built.
