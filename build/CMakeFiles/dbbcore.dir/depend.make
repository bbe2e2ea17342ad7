# Empty dependencies file for dbbcore.
# This may be replaced when dependencies are built.
