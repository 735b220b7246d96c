# `cmake --install`: the public headers, the static libraries and a CMake package, so that an
# application can embed the broker:
#
#   find_package(stompbox REQUIRED)
#   target_link_libraries(app PRIVATE stompbox::transport)   # or stompbox::broker alone
#
# Targets: stompbox::stomp, stompbox::auth, stompbox::store, stompbox::broker,
# stompbox::transport (each links what it needs); the `stompbox` binary goes to bin/.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(stompbox_libraries stompbox_stomp stompbox_auth stompbox_store stompbox_broker
    stompbox_transport)
foreach(target IN LISTS stompbox_libraries)
  string(REPLACE "stompbox_" "" short_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${short_name})
endforeach()
# The static libraries name stompbox_warnings as a link-only dependency; it is exported empty
# (its flags are BUILD_INTERFACE only) as stompbox::warnings.
set_target_properties(stompbox_warnings PROPERTIES EXPORT_NAME warnings)

install(TARGETS ${stompbox_libraries} stompbox_warnings
        EXPORT stompboxTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# Public headers only: detail/ and handlers/ are internals.
install(DIRECTORY stomp auth broker transport
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.hpp"
        PATTERN "detail" EXCLUDE
        PATTERN "handlers" EXCLUDE)

set(stompbox_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/stompbox)
install(EXPORT stompboxTargets NAMESPACE stompbox:: DESTINATION ${stompbox_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/stompboxConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/stompboxConfig.cmake
                              INSTALL_DESTINATION ${stompbox_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/stompboxConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/stompboxConfig.cmake
              ${PROJECT_BINARY_DIR}/stompboxConfigVersion.cmake
        DESTINATION ${stompbox_cmake_dir})
