#----------------------------------------------------------------
# Generated CMake target import file for configuration "RelWithDebInfo".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "libcyrus::cyrus" for configuration "RelWithDebInfo"
set_property(TARGET libcyrus::cyrus APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(libcyrus::cyrus PROPERTIES
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libcyrus.so.1.0.0"
  IMPORTED_SONAME_RELWITHDEBINFO "libcyrus.so.1"
  )

list(APPEND _cmake_import_check_targets libcyrus::cyrus )
list(APPEND _cmake_import_check_files_for_libcyrus::cyrus "${_IMPORT_PREFIX}/lib/libcyrus.so.1.0.0" )

# Import target "libcyrus::cyrus_static" for configuration "RelWithDebInfo"
set_property(TARGET libcyrus::cyrus_static APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(libcyrus::cyrus_static PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELWITHDEBINFO "C"
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libcyrus.a"
  )

list(APPEND _cmake_import_check_targets libcyrus::cyrus_static )
list(APPEND _cmake_import_check_files_for_libcyrus::cyrus_static "${_IMPORT_PREFIX}/lib/libcyrus.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
