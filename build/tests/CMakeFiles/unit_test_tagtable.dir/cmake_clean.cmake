file(REMOVE_RECURSE
  "CMakeFiles/unit_test_tagtable.dir/unit/test_tagtable.c.o"
  "CMakeFiles/unit_test_tagtable.dir/unit/test_tagtable.c.o.d"
  "unit_test_tagtable"
  "unit_test_tagtable.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/unit_test_tagtable.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
