# Empty dependencies file for test_imclient.
# This may be replaced when dependencies are built.
