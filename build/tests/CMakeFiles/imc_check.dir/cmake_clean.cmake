file(REMOVE_RECURSE
  "CMakeFiles/imc_check.dir/support/check.c.o"
  "CMakeFiles/imc_check.dir/support/check.c.o.d"
  "libimc_check.a"
  "libimc_check.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/imc_check.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
