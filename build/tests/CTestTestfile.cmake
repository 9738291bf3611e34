# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test(unit/test_encoder "/work/main/build/tests/unit_test_encoder")
set_tests_properties(unit/test_encoder PROPERTIES  LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_framer "/work/main/build/tests/unit_test_framer")
set_tests_properties(unit/test_framer PROPERTIES  LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_reply "/work/main/build/tests/unit_test_reply")
set_tests_properties(unit/test_reply PROPERTIES  LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_session "/work/main/build/tests/unit_test_session")
set_tests_properties(unit/test_session PROPERTIES  LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(unit/test_tagtable "/work/main/build/tests/unit_test_tagtable")
set_tests_properties(unit/test_tagtable PROPERTIES  LABELS "unit" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test(fake/test_imclient "/work/main/build/tests/fake_test_imclient")
set_tests_properties(fake/test_imclient PROPERTIES  LABELS "fake" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;22;add_test;/work/main/tests/CMakeLists.txt;0;")
