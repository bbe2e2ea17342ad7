# Empty dependencies file for test_gzip.
# This may be replaced when dependencies are built.
