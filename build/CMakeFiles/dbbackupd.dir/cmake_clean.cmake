file(REMOVE_RECURSE
  "CMakeFiles/dbbackupd.dir/src/main.c.o"
  "CMakeFiles/dbbackupd.dir/src/main.c.o.d"
  "dbbackupd"
  "dbbackupd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/dbbackupd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
