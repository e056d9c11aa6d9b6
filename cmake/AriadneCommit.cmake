# ariadne_commit(<source dir> <given> <out var>): the commit `--version` names. <given>
# (-DARIADNE_COMMIT=...) when not empty; else git's abbreviated HEAD when <source dir> is the
# top of a git checkout (a .git directory, or a file in a worktree); else "unknown" (a
# Debian source package has no .git, and must not pick up the commit of a repository it
# happens to be unpacked in). Fails the configure when the result is not letters, digits
# and . _ + ~ - (it is a Prometheus label value and part of a log line).
function(ariadne_commit source_dir given out_var)
  set(commit "${given}")
  if(commit STREQUAL "")
    set(commit "unknown")
    find_package(Git QUIET)
    if(GIT_FOUND AND EXISTS "${source_dir}/.git")
      execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${source_dir}" rev-parse --short HEAD
                      OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE
                      RESULT_VARIABLE result ERROR_QUIET)
      if(result EQUAL 0 AND NOT head STREQUAL "")
        set(commit "${head}")
      endif()
    endif()
  endif()
  if(NOT commit MATCHES "^[A-Za-z0-9._+~-]+$")
    message(FATAL_ERROR "ARIADNE_COMMIT must be letters, digits and . _ + ~ - only, got '${commit}'")
  endif()
  set(${out_var} "${commit}" PARENT_SCOPE)
endfunction()

# ariadne_commit_watch(<source dir>): CMake configures again when HEAD moves (a commit, a
# checkout), so the commit named stays current without a manual configure.
function(ariadne_commit_watch source_dir)
  find_package(Git QUIET)
  if(NOT GIT_FOUND OR NOT EXISTS "${source_dir}/.git")
    return()
  endif()
  foreach(name HEAD logs/HEAD)
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${source_dir}" rev-parse --path-format=absolute
                            --git-path ${name}
                    OUTPUT_VARIABLE path OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE result ERROR_QUIET)
    if(result EQUAL 0 AND EXISTS "${path}")
      set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${path}")
    endif()
  endforeach()
endfunction()
