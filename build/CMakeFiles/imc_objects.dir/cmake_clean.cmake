file(REMOVE_RECURSE
  "CMakeFiles/imc_objects.dir/src/core/callbacks.c.o"
  "CMakeFiles/imc_objects.dir/src/core/callbacks.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/encoder.c.o"
  "CMakeFiles/imc_objects.dir/src/core/encoder.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/framer.c.o"
  "CMakeFiles/imc_objects.dir/src/core/framer.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/outqueue.c.o"
  "CMakeFiles/imc_objects.dir/src/core/outqueue.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/reply.c.o"
  "CMakeFiles/imc_objects.dir/src/core/reply.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/session.c.o"
  "CMakeFiles/imc_objects.dir/src/core/session.c.o.d"
  "CMakeFiles/imc_objects.dir/src/core/tagtable.c.o"
  "CMakeFiles/imc_objects.dir/src/core/tagtable.c.o.d"
  "CMakeFiles/imc_objects.dir/src/imclient.c.o"
  "CMakeFiles/imc_objects.dir/src/imclient.c.o.d"
  "CMakeFiles/imc_objects.dir/src/transport/socket.c.o"
  "CMakeFiles/imc_objects.dir/src/transport/socket.c.o.d"
  "CMakeFiles/imc_objects.dir/src/util/buf.c.o"
  "CMakeFiles/imc_objects.dir/src/util/buf.c.o.d"
  "CMakeFiles/imc_objects.dir/src/util/xmalloc.c.o"
  "CMakeFiles/imc_objects.dir/src/util/xmalloc.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/imc_objects.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
