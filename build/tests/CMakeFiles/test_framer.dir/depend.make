# Empty dependencies file for test_framer.
# This may be replaced when dependencies are built.
