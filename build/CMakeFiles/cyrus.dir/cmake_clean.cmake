file(REMOVE_RECURSE
  "CMakeFiles/cyrus.dir/src/util/fatal.c.o"
  "CMakeFiles/cyrus.dir/src/util/fatal.c.o.d"
  "libcyrus.pdb"
  "libcyrus.so"
  "libcyrus.so.1"
  "libcyrus.so.1.0.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/cyrus.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
