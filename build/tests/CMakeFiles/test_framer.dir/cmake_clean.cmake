file(REMOVE_RECURSE
  "CMakeFiles/test_framer.dir/unit/test_framer.c.o"
  "CMakeFiles/test_framer.dir/unit/test_framer.c.o.d"
  "test_framer"
  "test_framer.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_framer.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
