# Empty dependencies file for cyrus_static.
# This may be replaced when dependencies are built.
