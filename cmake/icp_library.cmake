# icp_add_library(COMPONENT SOURCES ... [PUBLIC deps...] [PRIVATE deps...])
#
# Makes icp_<COMPONENT> (alias icp::<COMPONENT>), static or shared as
# BUILD_SHARED_LIBS says, exporting only what its headers mark with
# ICP_<COMPONENT>_EXPORT (from the generated <icp/<COMPONENT>_export.hpp>).
# Its code is compiled once, into icp_<COMPONENT>_objects, which the unit
# tests, benchmarks and fuzzers link directly: they also test icp::detail,
# which a shared library hides.
include(GenerateExportHeader)

set(ICP_OBJECT_LIBRARIES "" CACHE INTERNAL "Every component's object library")
set(ICP_BUILT_COMPONENTS "" CACHE INTERNAL "The components this build makes")

function(icp_add_library component)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE")
  set(library icp_${component})
  set(objects icp_${component}_objects)
  string(TOUPPER ${component} upper)

  add_library(${objects} OBJECT ${arg_SOURCES})
  if(BUILD_SHARED_LIBS)
    set(pic ON)
  else()
    set(pic OFF)
  endif()
  set_target_properties(${objects} PROPERTIES
    POSITION_INDEPENDENT_CODE ${pic}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_features(${objects} PUBLIC cxx_std_20)
  target_include_directories(${objects} PUBLIC
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_BINARY_DIR}/generated/include)
  # src/ is the root of every internal include ("json/checked_json.hpp"),
  # never "../"; only the libraries and their unit tests see it.
  target_include_directories(${objects} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # Whoever links the objects links what they need, private or not; objects
  # depend on objects, never on libraries, so a test binary holds one copy.
  list(TRANSFORM arg_PUBLIC REPLACE "^icp::(.*)$" "icp_\\1_objects" OUTPUT_VARIABLE object_deps)
  target_link_libraries(${objects} PUBLIC ${object_deps} ${arg_PRIVATE})
  if(BUILD_SHARED_LIBS)
    target_compile_definitions(${objects} PRIVATE ${library}_EXPORTS)
  endif()

  add_library(${library} $<TARGET_OBJECTS:${objects}>)
  add_library(icp::${component} ALIAS ${library})
  set_target_properties(${library} PROPERTIES
    EXPORT_NAME ${component}
    OUTPUT_NAME ${library}
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_compile_features(${library} PUBLIC cxx_std_20)
  target_include_directories(${library} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>"
    "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated/include>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  target_link_libraries(${library} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})

  generate_export_header(${library}
    BASE_NAME icp_${component}
    EXPORT_MACRO_NAME ICP_${upper}_EXPORT
    EXPORT_FILE_NAME ${PROJECT_BINARY_DIR}/generated/include/icp/${component}_export.hpp)

  set(ICP_OBJECT_LIBRARIES ${ICP_OBJECT_LIBRARIES} ${objects} CACHE INTERNAL "")
  set(ICP_BUILT_COMPONENTS ${ICP_BUILT_COMPONENTS} ${component} CACHE INTERNAL "")
endfunction()
