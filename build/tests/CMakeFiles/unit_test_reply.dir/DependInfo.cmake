
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/unit/test_reply.c" "tests/CMakeFiles/unit_test_reply.dir/unit/test_reply.c.o" "gcc" "tests/CMakeFiles/unit_test_reply.dir/unit/test_reply.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/CMakeFiles/cyrus_static.dir/DependInfo.cmake"
  "/work/main/build/tests/CMakeFiles/imc_check.dir/DependInfo.cmake"
  "/work/main/build/tests/CMakeFiles/imc_fakeserver.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
