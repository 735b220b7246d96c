# The Debian package, built by scripts/package.sh: `cpack -G DEB` in a Release build dir.
#
# Its files are the install component `debian` (EXCLUDE_FROM_ALL: a plain `cmake --install`,
# which installs the libraries for embedding, leaves them out; the package holds only this):
#   /usr/bin/stompbox                       the binary (stripped)
#   /etc/stompbox/stompbox.toml             conffile: production mode, data in /var/lib/stompbox
#   /etc/stompbox/users.toml                conffile: no users yet (0640, group stompbox)
#   /lib/systemd/system/stompbox.service    the service (user stompbox, sandboxed)
#   /usr/share/man/man1/stompbox.1.gz       the man page (packaging/stompbox.1)
#   /usr/share/doc/stompbox/copyright, changelog.gz
#   /usr/share/lintian/overrides/stompbox   why users.toml is 0640
# Maintainer scripts (packaging/postinst, prerm, postrm) add the system user and enable and
# start the service where systemd runs. The version is the project's (project(VERSION)).
option(STOMPBOX_PACKAGE_TESTS "Register the tests of the .deb (ctest -L package)" OFF)

set(packaging_dir ${PROJECT_SOURCE_DIR}/packaging)
set(generated_dir ${PROJECT_BINARY_DIR}/packaging)

# The man page's header names the project version. Debian wants man pages and changelogs
# compressed with gzip -9n (no name, no time stamp: the same bytes from every build).
configure_file(${packaging_dir}/stompbox.1 ${generated_dir}/stompbox.1 @ONLY)
set(deb_gzipped ${generated_dir}/stompbox.1.gz ${generated_dir}/changelog.gz)
add_custom_command(
  OUTPUT ${deb_gzipped}
  COMMAND gzip -9nkf ${generated_dir}/stompbox.1
  COMMAND ${CMAKE_COMMAND} -E copy ${packaging_dir}/changelog ${generated_dir}/changelog
  COMMAND gzip -9nf ${generated_dir}/changelog
  DEPENDS ${generated_dir}/stompbox.1 ${packaging_dir}/changelog
  COMMENT "Compressing the man page and the changelog"
  VERBATIM)
add_custom_target(stompbox_deb_files DEPENDS ${deb_gzipped})

set(component COMPONENT debian EXCLUDE_FROM_ALL)
set(read_write OWNER_READ OWNER_WRITE)
install(TARGETS stompbox RUNTIME DESTINATION bin ${component})
install(FILES ${packaging_dir}/stompbox.toml DESTINATION /etc/stompbox ${component}
        PERMISSIONS ${read_write} GROUP_READ WORLD_READ)
# Password hashes: readable by the service's group only (postinst gives it group stompbox).
install(FILES ${packaging_dir}/users.toml DESTINATION /etc/stompbox ${component}
        PERMISSIONS ${read_write} GROUP_READ)
install(FILES ${packaging_dir}/stompbox.service DESTINATION /lib/systemd/system ${component}
        PERMISSIONS ${read_write} GROUP_READ WORLD_READ)
install(FILES ${generated_dir}/stompbox.1.gz DESTINATION share/man/man1 ${component}
        PERMISSIONS ${read_write} GROUP_READ WORLD_READ)
install(FILES ${packaging_dir}/lintian-overrides DESTINATION share/lintian/overrides
        RENAME stompbox ${component} PERMISSIONS ${read_write} GROUP_READ WORLD_READ)
install(FILES ${packaging_dir}/copyright ${generated_dir}/changelog.gz
        DESTINATION share/doc/stompbox ${component}
        PERMISSIONS ${read_write} GROUP_READ WORLD_READ)

execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE deb_arch
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT deb_arch)
  set(deb_arch amd64)
endif()
set(deb_file_name stompbox_${PROJECT_VERSION}_${deb_arch}.deb)
file(WRITE ${PROJECT_BINARY_DIR}/deb-file-name "${deb_file_name}")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME stompbox)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "stompbox maintainers <maintainers@users.noreply.h-seed-a4a7bcf4.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "STOMP message broker over WebSocket and TCP")
set(CPACK_PACKAGE_DESCRIPTION
    "stompbox is a STOMP 1.0/1.1/1.2 message broker over WebSocket, SockJS and TCP.
Put it behind a web application to push live notifications to users from
Spring, stomp.js or any STOMP client. It has durable per-user queues in SQLite,
an HTTP publish API, Prometheus metrics, and can share users, topics and queues
with other nodes over Redis.")
set(CPACK_DEBIAN_FILE_NAME ${deb_file_name})
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${deb_arch})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries' packages come from dpkg-shlibdeps; adduser is for postinst, procps for
# the unit's ExecReload (/bin/kill).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${packaging_dir}/conffiles ${packaging_dir}/postinst ${packaging_dir}/prerm
    ${packaging_dir}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
# Only the `debian` component, as one package; DESTDIR so that /etc and /lib land in the package.
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};stompbox;debian;/")
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_FILE_NAME stompbox_${PROJECT_VERSION}_${deb_arch})
include(CPack)

if(STOMPBOX_PACKAGE_TESTS)
  enable_testing()
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  set(deb ${PROJECT_BINARY_DIR}/${deb_file_name})
  foreach(check lintian unit install)
    add_test(NAME package.${check}
             COMMAND Python3::Interpreter ${PROJECT_SOURCE_DIR}/tests/package/deb_test.py
                     ${check} ${deb})
    # 77: the check cannot run here (not root, or a stompbox package already installed).
    set_tests_properties(package.${check} PROPERTIES LABELS package TIMEOUT 300
                         SKIP_RETURN_CODE 77)
  endforeach()
endif()
