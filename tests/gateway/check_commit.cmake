# cmake -DARIADNE_SOURCE_DIR=... -DWORK_DIR=... -P check_commit.cmake: the commit `--version`
# names is the one given, else git's HEAD, else "unknown" outside a git checkout.
include(${ARIADNE_SOURCE_DIR}/cmake/AriadneCommit.cmake)
find_package(Git REQUIRED)

ariadne_commit("${ARIADNE_SOURCE_DIR}" "deb1234" given)
if(NOT given STREQUAL "deb1234")
  message(FATAL_ERROR "a given commit is not used: got '${given}'")
endif()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}/no-git")
ariadne_commit("${WORK_DIR}/no-git" "" none)
if(NOT none STREQUAL "unknown")
  message(FATAL_ERROR "a tree without .git names '${none}', not unknown")
endif()
# Inside another repository (a source package unpacked in one) it is still unknown.
file(MAKE_DIRECTORY "${WORK_DIR}/repo/unpacked")
execute_process(COMMAND "${GIT_EXECUTABLE}" init -q "${WORK_DIR}/repo" COMMAND_ERROR_IS_FATAL ANY)
file(WRITE "${WORK_DIR}/repo/README" "x\n")
execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${WORK_DIR}/repo" add README
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${WORK_DIR}/repo" -c user.name=t
                        -c user.email=t@example.org commit -q -m one COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${WORK_DIR}/repo" rev-parse --short HEAD
                OUTPUT_VARIABLE expected OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
ariadne_commit("${WORK_DIR}/repo/unpacked" "" nested)
if(NOT nested STREQUAL "unknown")
  message(FATAL_ERROR "a tree inside another repository names '${nested}', not unknown")
endif()
ariadne_commit("${WORK_DIR}/repo" "" head)
if(NOT head STREQUAL expected)
  message(FATAL_ERROR "a git checkout names '${head}', not its HEAD '${expected}'")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
