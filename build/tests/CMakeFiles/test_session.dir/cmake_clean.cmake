file(REMOVE_RECURSE
  "CMakeFiles/test_session.dir/unit/test_session.c.o"
  "CMakeFiles/test_session.dir/unit/test_session.c.o.d"
  "test_session"
  "test_session.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_session.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
