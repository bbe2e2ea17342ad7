file(REMOVE_RECURSE
  "CMakeFiles/test_child.dir/unit/test_child.c.o"
  "CMakeFiles/test_child.dir/unit/test_child.c.o.d"
  "test_child"
  "test_child.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_child.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
