file(REMOVE_RECURSE
  "CMakeFiles/test_encoder.dir/unit/test_encoder.c.o"
  "CMakeFiles/test_encoder.dir/unit/test_encoder.c.o.d"
  "test_encoder"
  "test_encoder.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_encoder.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
