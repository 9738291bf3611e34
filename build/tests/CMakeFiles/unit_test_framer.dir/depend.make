# Empty dependencies file for unit_test_framer.
# This may be replaced when dependencies are built.
