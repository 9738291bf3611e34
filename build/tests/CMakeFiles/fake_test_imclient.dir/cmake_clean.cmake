file(REMOVE_RECURSE
  "CMakeFiles/fake_test_imclient.dir/fake/test_imclient.c.o"
  "CMakeFiles/fake_test_imclient.dir/fake/test_imclient.c.o.d"
  "fake_test_imclient"
  "fake_test_imclient.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fake_test_imclient.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
