# embed.find_package: install the current build into a fresh prefix, then configure and build
# examples/embed on its own with find_package(stompbox) from that prefix. Fails on any error.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX=... [-DFLAGS=...]
#         -P this        (FLAGS: compile and link flags of the build, e.g. -fsanitize=address)
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "pass -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
endfunction()

run("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(file include/broker/broker.hpp include/transport/server.hpp include/stomp/frame.hpp
        include/auth/authenticator.hpp include/broker/store/sqlite_store.hpp
        lib/cmake/stompbox/stompboxConfig.cmake)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
file(GLOB_RECURSE internals ${prefix}/include/*/detail/*)
if(internals)
  message(FATAL_ERROR "internal headers installed: ${internals}")
endif()

# Only the prefix: the example must not find the source or build tree.
run("configure" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release
    "-DCMAKE_CXX_FLAGS=${FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${FLAGS}")
run("build" ${CMAKE_COMMAND} --build ${build} -j 2)
if(NOT EXISTS ${build}/stompbox_embed)
  message(FATAL_ERROR "stompbox_embed was not built")
endif()
# The standalone binary runs too (one second, ports picked by the kernel).
run("run" ${build}/stompbox_embed 0 0 1)
