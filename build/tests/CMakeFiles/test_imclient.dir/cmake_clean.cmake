file(REMOVE_RECURSE
  "CMakeFiles/test_imclient.dir/fake/test_imclient.c.o"
  "CMakeFiles/test_imclient.dir/fake/test_imclient.c.o.d"
  "test_imclient"
  "test_imclient.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_imclient.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
