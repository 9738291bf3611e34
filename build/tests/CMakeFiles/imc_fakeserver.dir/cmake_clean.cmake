file(REMOVE_RECURSE
  "CMakeFiles/imc_fakeserver.dir/support/fakeserver.c.o"
  "CMakeFiles/imc_fakeserver.dir/support/fakeserver.c.o.d"
  "libimc_fakeserver.a"
  "libimc_fakeserver.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/imc_fakeserver.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
