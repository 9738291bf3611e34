file(REMOVE_RECURSE
  "CMakeFiles/unit_test_session.dir/unit/test_session.c.o"
  "CMakeFiles/unit_test_session.dir/unit/test_session.c.o.d"
  "unit_test_session"
  "unit_test_session.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/unit_test_session.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
