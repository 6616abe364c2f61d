# The README shows regions of the examples, marked `// [NAME]` in them; this
# fails when the two drift apart.  cmake -DSOURCE_DIR=... -P readme_snippet.cmake
file(READ ${SOURCE_DIR}/README.md readme)
foreach(region IN ITEMS "get_icp.cpp:get-icp" "clerk_adapter.cpp:clerk"
                       "custom_store.cpp:conformance")
  string(REPLACE ":" ";" parts "${region}")
  list(GET parts 0 file)
  list(GET parts 1 name)
  file(READ ${SOURCE_DIR}/examples/${file} example)
  string(REGEX MATCH "// \\[${name}\\]\n(.*)\n  // \\[${name}\\]" _ "${example}")
  set(snippet "${CMAKE_MATCH_1}")
  if(snippet STREQUAL "")
    message(FATAL_ERROR "examples/${file} has no [${name}] region")
  endif()
  # The examples indent their regions by two spaces; the README does not.
  string(REPLACE "\n  " "\n" snippet "${snippet}")
  string(SUBSTRING "${snippet}" 2 -1 snippet)
  string(FIND "${readme}" "${snippet}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "README.md does not show the [${name}] region of examples/${file} as it is:\n${snippet}")
  endif()
endforeach()
