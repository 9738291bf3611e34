# Empty dependencies file for cyrus.
# This may be replaced when dependencies are built.
