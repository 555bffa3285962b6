# Install rules: `cmake --install <build> [--prefix P]` puts in P
#   lib/libshmrpc.a, lib/libshmrpc_rpc.a         the channel core and the RPC layer
#   lib/libshmrpc_xproc.a                        the cross-process transport (Linux)
#   lib/libshmrpc_nanopb.a                       nanopb's runtime, 32-bit field sizes
#   include/shmrpc.h, include/shmrpc/*.h         the public C API
#   include/shmrpc/nanopb/pb*.h                  nanopb's headers for that runtime
#   bin/protoc-gen-shmrpc                        the protoc plugin (when built)
#   bin/shmrpc-host                              serves a service library to other processes
#   lib/cmake/shmrpc/                            shmrpcConfig.cmake (+ version),
#                                                exported targets, shmrpc_generate()
#   lib/pkgconfig/shmrpc.pc                      for pkg-config users
# Consumers: find_package(shmrpc) then link shmrpc::shmrpc (channel),
# shmrpc::rpc (services) or shmrpc::xproc (cross-process), and call shmrpc_generate() (cmake/ShmrpcGenerate.cmake).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SHMRPC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/shmrpc)

set_target_properties(shmrpc PROPERTIES EXPORT_NAME shmrpc)
set_target_properties(shmrpc_rpc PROPERTIES EXPORT_NAME rpc)
set_target_properties(shmrpc_xproc PROPERTIES EXPORT_NAME xproc)
set_target_properties(shmrpc_nanopb PROPERTIES EXPORT_NAME nanopb)
install(TARGETS shmrpc shmrpc_rpc shmrpc_xproc shmrpc_nanopb
  EXPORT shmrpcTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shmrpc/nanopb
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/c/include/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

# Programs. Each is exported as shmrpc::<name> when this build makes it.
if(TARGET protoc-gen-shmrpc)
  install(TARGETS protoc-gen-shmrpc EXPORT shmrpcTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# The cross-process host.
if(TARGET shmrpc-host)
  install(TARGETS shmrpc-host EXPORT shmrpcTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT shmrpcTargets
  NAMESPACE shmrpc::
  DESTINATION ${SHMRPC_CMAKE_DIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/shmrpcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shmrpcConfig.cmake
  INSTALL_DESTINATION ${SHMRPC_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/shmrpcConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/shmrpcConfig.cmake
  ${PROJECT_BINARY_DIR}/shmrpcConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/ShmrpcGenerate.cmake
  DESTINATION ${SHMRPC_CMAKE_DIR})

# pkg-config: one module for the whole C API (channel, RPC layer, cross-process, nanopb).
# The prefix is found from the .pc file's own place: the file stays right
# under whatever --prefix `cmake --install` is given.
file(RELATIVE_PATH SHMRPC_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" SHMRPC_PC_TO_PREFIX "${SHMRPC_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/shmrpc.pc.in ${PROJECT_BINARY_DIR}/shmrpc.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shmrpc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
