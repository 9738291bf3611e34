# Empty dependencies file for test_encoder.
# This may be replaced when dependencies are built.
