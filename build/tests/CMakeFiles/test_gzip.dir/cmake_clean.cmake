file(REMOVE_RECURSE
  "CMakeFiles/test_gzip.dir/unit/test_gzip.c.o"
  "CMakeFiles/test_gzip.dir/unit/test_gzip.c.o.d"
  "test_gzip"
  "test_gzip.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_gzip.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
