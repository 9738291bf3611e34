file(REMOVE_RECURSE
  "CMakeFiles/test_tagtable.dir/unit/test_tagtable.c.o"
  "CMakeFiles/test_tagtable.dir/unit/test_tagtable.c.o.d"
  "test_tagtable"
  "test_tagtable.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_tagtable.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
