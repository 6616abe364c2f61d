# The README shows the [get-icp] region of examples/get_icp.cpp; this fails
# when the two drift apart.  cmake -DSOURCE_DIR=... -P readme_snippet.cmake
file(READ ${SOURCE_DIR}/examples/get_icp.cpp example)
file(READ ${SOURCE_DIR}/README.md readme)
string(REGEX MATCH "// \\[get-icp\\]\n(.*)\n  // \\[get-icp\\]" _ "${example}")
set(snippet "${CMAKE_MATCH_1}")
if(snippet STREQUAL "")
  message(FATAL_ERROR "examples/get_icp.cpp has no [get-icp] region")
endif()
# The example indents the region by two spaces; the README does not.
string(REPLACE "\n  " "\n" snippet "${snippet}")
string(SUBSTRING "${snippet}" 2 -1 snippet)
string(FIND "${readme}" "${snippet}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not show the [get-icp] region of examples/get_icp.cpp as it is:\n${snippet}")
endif()
