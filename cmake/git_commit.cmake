# SHARDRUN_GIT_COMMIT: the short commit of the source tree, for
# `shardrun --version`, read at configure time with `git rev-parse --short
# HEAD`; "unknown" when git is missing or the source is not a git checkout of
# its own (a release tarball; one unpacked inside another repository must not
# report that repository's commit). Written to
# <build>/generated/shardrun/build_info.hpp.
#
# HEAD and the branch it points at are configure dependencies, so a commit or
# checkout re-runs CMake on the next build and the binary never shows a stale
# commit. The header is rewritten only when the commit changes: then only
# cli.cpp and the cli test recompile.

set(SHARDRUN_GIT_COMMIT unknown)
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" rev-parse --show-toplevel
    WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
    RESULT_VARIABLE _git_rc OUTPUT_VARIABLE _git_top ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(_git_rc EQUAL 0)
    get_filename_component(_git_top "${_git_top}" REALPATH)
    get_filename_component(_source "${CMAKE_SOURCE_DIR}" REALPATH)
  endif()
  if(_git_rc EQUAL 0 AND _git_top STREQUAL _source)
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" rev-parse --short HEAD
      WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
      RESULT_VARIABLE _git_rc OUTPUT_VARIABLE _git_commit ERROR_QUIET
      OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_git_rc EQUAL 0 AND _git_commit MATCHES "^[0-9a-f]+$")
      set(SHARDRUN_GIT_COMMIT "${_git_commit}")
    endif()
    # Re-run CMake when HEAD moves: HEAD itself (a checkout), its reflog (any
    # commit, checkout or reset), and the branch it names, loose or packed (a
    # commit where reflogs are off). Paths from git, so worktrees work too.
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" rev-parse --git-path HEAD --git-path logs/HEAD
      WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
      OUTPUT_VARIABLE _git_head ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REPLACE "\n" ";" _git_head "${_git_head}")
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" symbolic-ref -q HEAD
      WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
      OUTPUT_VARIABLE _git_ref ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    set(_git_files "${_git_head}")
    if(_git_ref)
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" rev-parse --git-path "${_git_ref}" --git-path packed-refs
        WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
        OUTPUT_VARIABLE _git_ref_files ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
      string(REPLACE "\n" ";" _git_ref_files "${_git_ref_files}")
      list(APPEND _git_files ${_git_ref_files})
    endif()
    foreach(_file IN LISTS _git_files)
      get_filename_component(_file "${_file}" ABSOLUTE BASE_DIR "${CMAKE_SOURCE_DIR}")
      if(EXISTS "${_file}")
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_file}")
      endif()
    endforeach()
  endif()
endif()
message(STATUS "shardrun ${PROJECT_VERSION}, git commit ${SHARDRUN_GIT_COMMIT}")
configure_file("${CMAKE_CURRENT_LIST_DIR}/build_info.hpp.in"
               "${CMAKE_BINARY_DIR}/generated/shardrun/build_info.hpp" @ONLY)
