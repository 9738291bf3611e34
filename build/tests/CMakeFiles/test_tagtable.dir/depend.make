# Empty dependencies file for test_tagtable.
# This may be replaced when dependencies are built.
