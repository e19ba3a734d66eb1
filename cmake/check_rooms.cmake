# The rooms' rules (docs/ARCHITECTURE.md), checked on every source file's #include lines. Runs at
# configure time (included from the top CMakeLists.txt) and as the ctest test rooms.rules:
#   cmake -DROOT=<source dir> [-DEXTRA_FILE=f -DEXTRA_AS=path/in/tree.cc] -P cmake/check_rooms.cmake
# A file belongs to the room of the longest prefix below that matches its path. It may include the
# project headers of the prefixes its room lists ("warmpool/" is include/warmpool/) and the
# third-party headers its room owns; standard headers are free, except in the pure rooms.

cmake_policy(SET CMP0007 NEW)
cmake_policy(SET CMP0057 NEW)

# Third-party libraries: only the rooms that list one may include its headers.
set(_libraries boost/ yaml-cpp/ spdlog/ fmt/ nlohmann/ prometheus/ CLI/ openssl/ doctest/ zlib.h)
# Sockets: only the providers (HAProxy's runtime API) and the http room.
set(_sockets sys/socket.h sys/un.h netinet/ arpa/ netdb.h)

# room prefix | project headers it may include | third-party header folders it may include
set(_rooms
  "include/warmpool/|warmpool/|"
  "core/|warmpool/ core/|"
  "policies/|warmpool/ policies/|"
  "providers/|warmpool/ providers/|sockets"
  "controller/log/|warmpool/ controller/log/|spdlog/ fmt/ nlohmann/"
  "controller/files/|warmpool/ controller/files/|"
  "controller/http/|warmpool/ controller/http/server.h controller/http/client.h|"
  "controller/http/beast/|warmpool/ controller/http/server.h controller/http/client.h controller/http/beast/ controller/files/|openssl/ boost/ sockets"
  "controller/sources/|warmpool/ controller/sources/|"
  "controller/sources/trace/|warmpool/ controller/sources/trace/ controller/files/|zlib.h"
  "controller/sources/prometheus/|warmpool/ controller/sources/prometheus/ controller/http/server.h controller/http/client.h controller/files/|nlohmann/"
  "controller/config/|warmpool/ controller/config/ controller/files/ controller/api/tokens.h controller/sources/registry.h policies/ providers/registry.h|yaml-cpp/"
  "controller/state/|warmpool/ controller/state/ policies/|nlohmann/"
  "controller/api/|warmpool/ controller/api/ controller/http/server.h controller/log/|nlohmann/ openssl/"
  "controller/cluster/|warmpool/ controller/cluster/ controller/http/client.h controller/files/ controller/log/log.h|nlohmann/"
  "controller/runtime/|warmpool/ controller/runtime/ controller/api/control_plane.h controller/state/ controller/log/ controller/sources/registry.h policies/ providers/registry.h|prometheus/"
  "controller/backtest/|warmpool/ controller/backtest/backtest.h controller/backtest/score.h controller/backtest/capacity_model.h controller/backtest/hpa_baseline.h controller/backtest/oracle.h controller/backtest/compare.h controller/backtest/sweep.h controller/backtest/parallel.h controller/backtest/curve.h controller/sources/trace/ policies/ providers/simulated/|"
  "controller/backtest/report/|warmpool/ controller/backtest/|nlohmann/"
  "controller/|warmpool/ controller/ policies/ providers/|CLI/"
)
# Pure rooms: no I/O, no clock reads, no library headers at all.
set(_pure "include/warmpool/;core/;policies/")
set(_io_regex "fopen|ifstream|ofstream|opendir|std::filesystem|system_clock|steady_clock|time\\(nullptr\\)|#include <(fstream|filesystem|chrono|thread|unistd\\.h|fcntl\\.h|sys/)")

# Sets `out` to TRUE when `text` starts with one of `prefixes`.
function(_starts_with_any text prefixes out)
  foreach(_p ${prefixes})
    string(LENGTH "${_p}" _len)
    string(SUBSTRING "${text}" 0 ${_len} _head)
    if(_head STREQUAL _p)
      set(${out} TRUE PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out} FALSE PARENT_SCOPE)
endfunction()

if(NOT ROOT)
  set(ROOT ${PROJECT_SOURCE_DIR})
endif()
set(_files)
foreach(_dir include core policies providers controller)
  file(GLOB_RECURSE _found RELATIVE ${ROOT} ${ROOT}/${_dir}/*.h ${ROOT}/${_dir}/*.cc)
  list(APPEND _files ${_found})
endforeach()
if(EXTRA_FILE)
  list(APPEND _files "${EXTRA_AS}")
endif()

set(_violations)
foreach(_f ${_files})
  set(_room "")
  set(_allowed "")
  set(_third "")
  foreach(_r ${_rooms})
    string(REPLACE "|" ";" _parts "${_r}")
    list(GET _parts 0 _prefix)
    string(LENGTH "${_prefix}" _len)
    string(SUBSTRING "${_f}" 0 ${_len} _head)
    string(LENGTH "${_room}" _best)
    if(_head STREQUAL _prefix AND _len GREATER _best)
      set(_room "${_prefix}")
      list(GET _parts 1 _allowed)
      list(LENGTH _parts _n)
      set(_third "")
      if(_n GREATER 2)
        list(GET _parts 2 _third)
      endif()
    endif()
  endforeach()
  if(_room STREQUAL "")
    continue()
  endif()
  separate_arguments(_allowed)
  separate_arguments(_third)
  set(_path "${ROOT}/${_f}")
  if(EXTRA_FILE AND _f STREQUAL EXTRA_AS)
    set(_path "${EXTRA_FILE}")
  endif()
  file(STRINGS "${_path}" _lines REGEX "^#include [\"<]")
  foreach(_line ${_lines})
    if(_line MATCHES "^#include \"([^\"]+)\"")
      set(_inc "${CMAKE_MATCH_1}")
      _starts_with_any("${_inc}" "${_allowed}" _ok)
      if(NOT _ok)
        list(APPEND _violations "${_f}: room ${_room} may not include \"${_inc}\"")
      endif()
    elseif(_line MATCHES "^#include <([^>]+)>")
      set(_inc "${CMAKE_MATCH_1}")
      _starts_with_any("${_inc}" "${_libraries};${_sockets}" _owned)
      if(_owned)
        if("sockets" IN_LIST _third)
          list(APPEND _third ${_sockets})
        endif()
        _starts_with_any("${_inc}" "${_third}" _ok)
        if(NOT _ok)
          list(APPEND _violations "${_f}: room ${_room} may not include <${_inc}> (not this room's library)")
        endif()
      endif()
    endif()
  endforeach()
  list(FIND _pure "${_room}" _is_pure)
  if(_is_pure GREATER -1)
    file(STRINGS "${_path}" _io REGEX "${_io_regex}")
    foreach(_line ${_io})
      string(STRIP "${_line}" _line)
      list(APPEND _violations "${_f}: room ${_room} is pure (no I/O, no clock reads): ${_line}")
    endforeach()
  endif()
endforeach()

if(_violations)
  list(JOIN _violations "\n  " _text)
  message(FATAL_ERROR "the rooms' rules (docs/ARCHITECTURE.md) are broken:\n  ${_text}")
endif()
