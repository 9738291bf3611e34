# Empty dependencies file for unit_test_reply.
# This may be replaced when dependencies are built.
