# pkg-config files: one per component (icp-core, icp-sqlite, ...) and icp.pc
# for all that were built, for builds that do not use CMake. The libraries
# are static, so each file lists what linking them needs (Boost and
# SQLiteCpp ship no .pc of their own: their libraries are named directly).

set(_icp_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH pc_relative_prefix /prefix/${_icp_pc_dir} /prefix)
string(REGEX REPLACE "/$" "" pc_relative_prefix "${pc_relative_prefix}")

# icp_pkg_config(NAME DESCRIPTION REQUIRES LIBS): writes and installs NAME.pc.
function(icp_pkg_config name description requires libs)
  set(pc_name ${name})
  set(pc_description ${description})
  set(pc_requires ${requires})
  set(pc_libs ${libs})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/icp.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc
    @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${_icp_pc_dir})
endfunction()

icp_pkg_config(icp-core "ICP model, access rules, JSON, service and memory store"
  "fmt" "-L\${libdir} -licp_core -lboost_json -pthread")
icp_pkg_config(icp-sqlite "ICP store on SQLite" "icp-core sqlite3"
  "-L\${libdir} -licp_sqlite -lSQLiteCpp")
icp_pkg_config(icp-http "ICP HTTP adapter" "icp-core" "-L\${libdir} -licp_http -lboost_url")
icp_pkg_config(icp-clerk "ICP Clerk session tokens" "icp-http libcrypto"
  "-L\${libdir} -licp_clerk")
icp_pkg_config(icp-testing "ICP store conformance suite and test doubles" "icp-core"
  "-L\${libdir} -licp_testing")
set(_icp_all "icp-sqlite icp-http icp-clerk icp-testing")
if(TARGET icp_postgres)
  icp_pkg_config(icp-postgres "ICP store on PostgreSQL" "icp-core libpq"
    "-L\${libdir} -licp_postgres")
  string(APPEND _icp_all " icp-postgres")
endif()
icp_pkg_config(icp "ICP (Ideal Customer Profile) resource library: every component built"
  "${_icp_all}" "")
