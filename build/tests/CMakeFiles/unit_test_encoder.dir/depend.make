# Empty dependencies file for unit_test_encoder.
# This may be replaced when dependencies are built.
