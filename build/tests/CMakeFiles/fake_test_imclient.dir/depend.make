# Empty dependencies file for fake_test_imclient.
# This may be replaced when dependencies are built.
