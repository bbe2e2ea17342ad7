file(REMOVE_RECURSE
  "CMakeFiles/test_storage.dir/unit/test_storage.c.o"
  "CMakeFiles/test_storage.dir/unit/test_storage.c.o.d"
  "test_storage"
  "test_storage.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_storage.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
