file(REMOVE_RECURSE
  "CMakeFiles/unit_test_reply.dir/unit/test_reply.c.o"
  "CMakeFiles/unit_test_reply.dir/unit/test_reply.c.o.d"
  "unit_test_reply"
  "unit_test_reply.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/unit_test_reply.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
