# pkg-config files: one per component (icp-core, icp-sqlite, ...) and icp.pc
# for all that were built, for builds that do not use CMake. The libraries
# may be static, so each file lists what linking them needs (Boost and
# SQLiteCpp ship no .pc of their own: their libraries are named directly;
# a shared build names only icp's own, the rest are the libraries' business).

set(_icp_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH pc_relative_prefix /prefix/${_icp_pc_dir} /prefix)
string(REGEX REPLACE "/$" "" pc_relative_prefix "${pc_relative_prefix}")

if(BUILD_SHARED_LIBS)
  set(_icp_sqlitecpp "")
  set(_icp_boost_url "")
else()
  set(_icp_sqlitecpp "-lSQLiteCpp")
  set(_icp_boost_url "-lboost_url")
endif()

# icp_pkg_config(NAME DESCRIPTION REQUIRES LIBS): writes and installs NAME.pc.
function(icp_pkg_config name description requires libs)
  set(pc_name ${name})
  set(pc_description ${description})
  set(pc_requires ${requires})
  set(pc_libs ${libs})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/icp.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc
    @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${_icp_pc_dir} COMPONENT dev)
endfunction()

icp_pkg_config(icp-core "ICP model, access rules, JSON, service and memory store"
  "fmt" "-L\${libdir} -licp_core -lboost_json -pthread")
set(_icp_all "icp-core")
# icp_pkg_config_component(COMPONENT DESCRIPTION REQUIRES LIBS): for a component built.
function(icp_pkg_config_component component description requires libs)
  if(component IN_LIST ICP_BUILT_COMPONENTS)
    icp_pkg_config(icp-${component} "${description}" "${requires}" "${libs}")
    set(_icp_all "${_icp_all} icp-${component}" PARENT_SCOPE)
  endif()
endfunction()
icp_pkg_config_component(sqlite "ICP store on SQLite" "icp-core sqlite3"
  "-L\${libdir} -licp_sqlite ${_icp_sqlitecpp}")
icp_pkg_config_component(http "ICP HTTP adapter" "icp-core" "-L\${libdir} -licp_http ${_icp_boost_url}")
icp_pkg_config_component(clerk "ICP Clerk session tokens" "icp-http libcrypto"
  "-L\${libdir} -licp_clerk")
icp_pkg_config_component(postgres "ICP store on PostgreSQL" "icp-core libpq"
  "-L\${libdir} -licp_postgres")
icp_pkg_config_component(testing "ICP store conformance suite and test doubles" "icp-core"
  "-L\${libdir} -licp_testing")
icp_pkg_config(icp "ICP (Ideal Customer Profile) resource library: every component built"
  "${_icp_all}" "")
