file(REMOVE_RECURSE
  "CMakeFiles/cyrus_static.dir/src/util/fatal.c.o"
  "CMakeFiles/cyrus_static.dir/src/util/fatal.c.o.d"
  "libcyrus.a"
  "libcyrus.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cyrus_static.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
