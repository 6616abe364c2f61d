# Debian packages (cpack -G DEB, from a build with BUILD_SHARED_LIBS=ON):
#   libicp<soversion>  the shared libraries
#   libicp-dev         headers, CMake and pkg-config files, the .so links
#   icp-tools          icp-server and icpctl, and icp-server.service
# Dependencies on Debian's packages: dpkg-shlibdeps finds those of the
# binaries; the -dev package names the -dev packages its headers and
# CMake file need.
set(icp_soversion ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

set(CPACK_PACKAGE_NAME icp)
set(CPACK_PACKAGE_VENDOR "icp")
set(CPACK_PACKAGE_CONTACT "icp maintainers <icp@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own libraries, before they are packaged: dpkg-shlibdeps finds them here
# and leaves the dependency on them to CPACK_COMPONENT_*_DEPENDS.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libicp${icp_soversion})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${PROJECT_DESCRIPTION}: shared libraries")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libicp-dev)
set(CPACK_COMPONENT_DEV_DESCRIPTION "${PROJECT_DESCRIPTION}: headers, CMake and pkg-config files")
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(icp_dev_depends libboost1.81-dev libboost-json1.81-dev libfmt-dev)
if(ICP_WITH_SQLITE)
  list(APPEND icp_dev_depends libsqlitecpp-dev libsqlite3-dev)
endif()
if(ICP_WITH_HTTP)
  list(APPEND icp_dev_depends libboost-url1.81-dev)
endif()
if(ICP_WITH_CLERK)
  list(APPEND icp_dev_depends libssl-dev)
endif()
if(ICP_WITH_POSTGRES)
  list(APPEND icp_dev_depends "libpq-dev (>= 14)")
endif()
list(JOIN icp_dev_depends ", " CPACK_DEBIAN_DEV_PACKAGE_DEPENDS)

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME icp-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_COMPONENT_TOOLS_DESCRIPTION
    "${PROJECT_DESCRIPTION}: icp-server (and its systemd unit) and icpctl")
set(CPACK_COMPONENT_TOOLS_DEPENDS runtime)
# icp-server.service: its user (adduser), /etc/default/icp-server, and
# stopping it before removal (cmake/debian/).
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_TOOLS_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_TOOLS_PACKAGE_CONTROL_STRICT_PERMISSION ON)

if(BUILD_SHARED_LIBS)
  set(CPACK_COMPONENTS_ALL runtime dev tools)
else()
  # Static libraries go in the -dev package; there is no runtime package.
  set(CPACK_COMPONENTS_ALL dev tools)
  set(CPACK_COMPONENT_DEV_DEPENDS "")
  set(CPACK_COMPONENT_TOOLS_DEPENDS "")
endif()
if(NOT TARGET icpctl)
  list(REMOVE_ITEM CPACK_COMPONENTS_ALL tools)
endif()
include(CPack)
