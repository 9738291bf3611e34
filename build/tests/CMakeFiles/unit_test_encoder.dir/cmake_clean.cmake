file(REMOVE_RECURSE
  "CMakeFiles/unit_test_encoder.dir/unit/test_encoder.c.o"
  "CMakeFiles/unit_test_encoder.dir/unit/test_encoder.c.o.d"
  "unit_test_encoder"
  "unit_test_encoder.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/unit_test_encoder.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
