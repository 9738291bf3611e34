# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(unit/test_framer "/work/main/build/tests/test_framer")
set_tests_properties(unit/test_framer PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;12;imc_unit_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_reply "/work/main/build/tests/test_reply")
set_tests_properties(unit/test_reply PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;12;imc_unit_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_encoder "/work/main/build/tests/test_encoder")
set_tests_properties(unit/test_encoder PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;12;imc_unit_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_tagtable "/work/main/build/tests/test_tagtable")
set_tests_properties(unit/test_tagtable PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;12;imc_unit_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_session "/work/main/build/tests/test_session")
set_tests_properties(unit/test_session PROPERTIES  _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;8;add_test;/work/main/tests/CMakeLists.txt;12;imc_unit_test;/work/main/tests/CMakeLists.txt;0;")
add_test(fake/test_imclient "/work/main/build/tests/test_imclient")
set_tests_properties(fake/test_imclient PROPERTIES  TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;24;add_test;/work/main/tests/CMakeLists.txt;28;imc_fake_test;/work/main/tests/CMakeLists.txt;0;")
