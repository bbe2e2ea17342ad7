# Empty dependencies file for dbbackupd.
# This may be replaced when dependencies are built.
