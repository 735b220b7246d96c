# Enforces the one-way dependency rule of ARCHITECTURE.md by reading every #include line.
#   cmake -DROOT=<source dir> -P check_includes.cmake
# Fails (non-zero exit) listing each forbidden include as file:line.
#
#   stomp/      standard library only: <name> without '/' or '.', and "stomp/..."
#   auth/       no Asio/Beast, nothing of broker/ or transport/
#   broker/     no Asio/Beast, no Redis client (hiredis), nothing of transport/, cluster/ or app/
#   transport/  broker's public headers only (no broker/detail, broker/handlers), no stomp/ or auth/
#   cluster/    Asio and hiredis, broker's public headers only; no Beast, nothing of transport/ or app/
if(NOT ROOT)
  message(FATAL_ERROR "pass -DROOT=<source dir>")
endif()

set(violations "")

function(check_module module)
  file(GLOB_RECURSE files "${ROOT}/${module}/*.hpp" "${ROOT}/${module}/*.cpp" "${ROOT}/${module}/*.h")
  foreach(file IN LISTS files)
    file(STRINGS "${file}" lines)
    set(line_no 0)
    foreach(line IN LISTS lines)
      math(EXPR line_no "${line_no} + 1")
      if(NOT line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
        continue()
      endif()
      set(kind "${CMAKE_MATCH_1}")
      set(path "${CMAKE_MATCH_2}")
      set(bad FALSE)
      if(module STREQUAL "stomp")
        if(kind STREQUAL "<" AND path MATCHES "[/.]")
          set(bad TRUE)
        elseif(kind STREQUAL "\"" AND NOT path MATCHES "^stomp/")
          set(bad TRUE)
        endif()
      elseif(module STREQUAL "auth")
        if(path MATCHES "^boost/(asio|beast)" OR path MATCHES "^(broker|transport|app)/")
          set(bad TRUE)
        endif()
      elseif(module STREQUAL "broker")
        if(path MATCHES "^boost/(asio|beast)" OR path MATCHES "^(transport|cluster|app)/"
           OR path MATCHES "hiredis")
          set(bad TRUE)
        endif()
      elseif(module STREQUAL "cluster")
        if(path MATCHES "^boost/beast" OR path MATCHES "^broker/(detail|handlers)/"
           OR path MATCHES "^(transport|app)/")
          set(bad TRUE)
        endif()
      elseif(module STREQUAL "transport")
        if(path MATCHES "^broker/(detail|handlers)/" OR path MATCHES "^(stomp|auth|app)/")
          set(bad TRUE)
        endif()
      endif()
      if(bad)
        file(RELATIVE_PATH rel "${ROOT}" "${file}")
        list(APPEND violations "${rel}:${line_no}: ${module}/ may not include ${kind}${path}")
        set(violations "${violations}" PARENT_SCOPE)
      endif()
    endforeach()
  endforeach()
endfunction()

foreach(module stomp auth broker transport cluster)
  check_module(${module})
endforeach()

if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "forbidden includes:\n${text}")
endif()
message(STATUS "include rule holds")
