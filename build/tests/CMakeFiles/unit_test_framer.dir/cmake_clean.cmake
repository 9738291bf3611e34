file(REMOVE_RECURSE
  "CMakeFiles/unit_test_framer.dir/unit/test_framer.c.o"
  "CMakeFiles/unit_test_framer.dir/unit/test_framer.c.o.d"
  "unit_test_framer"
  "unit_test_framer.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/unit_test_framer.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
