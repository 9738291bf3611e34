
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/core/callbacks.c" "CMakeFiles/imc_objects.dir/src/core/callbacks.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/callbacks.c.o.d"
  "/work/main/src/core/encoder.c" "CMakeFiles/imc_objects.dir/src/core/encoder.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/encoder.c.o.d"
  "/work/main/src/core/framer.c" "CMakeFiles/imc_objects.dir/src/core/framer.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/framer.c.o.d"
  "/work/main/src/core/outqueue.c" "CMakeFiles/imc_objects.dir/src/core/outqueue.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/outqueue.c.o.d"
  "/work/main/src/core/reply.c" "CMakeFiles/imc_objects.dir/src/core/reply.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/reply.c.o.d"
  "/work/main/src/core/session.c" "CMakeFiles/imc_objects.dir/src/core/session.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/session.c.o.d"
  "/work/main/src/core/tagtable.c" "CMakeFiles/imc_objects.dir/src/core/tagtable.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/core/tagtable.c.o.d"
  "/work/main/src/imclient.c" "CMakeFiles/imc_objects.dir/src/imclient.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/imclient.c.o.d"
  "/work/main/src/transport/socket.c" "CMakeFiles/imc_objects.dir/src/transport/socket.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/transport/socket.c.o.d"
  "/work/main/src/util/buf.c" "CMakeFiles/imc_objects.dir/src/util/buf.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/util/buf.c.o.d"
  "/work/main/src/util/xmalloc.c" "CMakeFiles/imc_objects.dir/src/util/xmalloc.c.o" "gcc" "CMakeFiles/imc_objects.dir/src/util/xmalloc.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
