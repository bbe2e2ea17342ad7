file(REMOVE_RECURSE
  "CMakeFiles/test_range.dir/unit/test_range.c.o"
  "CMakeFiles/test_range.dir/unit/test_range.c.o.d"
  "test_range"
  "test_range.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_range.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
