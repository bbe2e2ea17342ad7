# Empty dependencies file for test_range.
# This may be replaced when dependencies are built.
