# Empty dependencies file for unit_test_tagtable.
# This may be replaced when dependencies are built.
