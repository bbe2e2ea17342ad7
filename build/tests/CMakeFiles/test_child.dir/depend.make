# Empty dependencies file for test_child.
# This may be replaced when dependencies are built.
