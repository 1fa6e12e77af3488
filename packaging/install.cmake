# Installation and the Debian package; included by the top-level
# CMakeLists.txt.
#
#   cmake --install build --prefix /usr/local      # DESTDIR=... works too
#   cd build && cpack -G DEB                       # shardrun_<version>_<arch>.deb
#
# installs, under the prefix (/usr in the .deb):
#
#   bin/shardrun
#   share/man/man1/shardrun.1.gz
#   share/bash-completion/completions/shardrun
#   share/zsh/vendor-completions/_shardrun     (prefix /usr, as in the .deb)
#   share/zsh/site-functions/_shardrun         (any other prefix)
#   share/doc/shardrun/README.md
#   share/doc/shardrun/configs/*.yaml          (the example suites)
#
# scripts/test-package.sh (run by scripts/test.sh) installs into a temporary
# DESTDIR, builds the .deb, unpacks it and runs what it holds.

include(GNUInstallDirs)

install(TARGETS shardrun RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The man page, written by hand (packaging/shardrun.1.in) with the version
# filled in, gzipped as Debian policy asks (-n: no name or time stamp, so the
# same page gives the same bytes).
configure_file(${CMAKE_CURRENT_LIST_DIR}/shardrun.1.in ${CMAKE_BINARY_DIR}/man/shardrun.1 @ONLY)
find_program(SHARDRUN_GZIP gzip REQUIRED)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/man/shardrun.1.gz
  COMMAND ${SHARDRUN_GZIP} -9 -n -f -k ${CMAKE_BINARY_DIR}/man/shardrun.1
  DEPENDS ${CMAKE_BINARY_DIR}/man/shardrun.1
  COMMENT "Compressing the man page"
  VERBATIM)
add_custom_target(shardrun_man ALL DEPENDS ${CMAKE_BINARY_DIR}/man/shardrun.1.gz)
install(FILES ${CMAKE_BINARY_DIR}/man/shardrun.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# bash: bash-completion (2.9 and later) loads completions/<command> from
# every <dir>/bash-completion of XDG_DATA_DIRS, /usr/local/share and
# /usr/share by default.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/completions/shardrun.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME shardrun)

# zsh: Debian's zsh looks in /usr/share/zsh/vendor-completions (for
# packages) and /usr/local/share/zsh/site-functions, not in
# /usr/share/zsh/site-functions. The prefix is known only when installing
# (`cmake --install --prefix`; CPack's staging prefix ends in /usr), so the
# folder is chosen then. file(INSTALL) honours DESTDIR and the install
# manifest as install() does.
set(_shardrun_zsh_completion ${CMAKE_CURRENT_LIST_DIR}/completions/_shardrun)
install(CODE "
  if(CMAKE_INSTALL_PREFIX MATCHES \"(^|/)usr/?\$\")
    set(_shardrun_zsh_dir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions\")
  else()
    set(_shardrun_zsh_dir \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/zsh/site-functions\")
  endif()
  file(INSTALL DESTINATION \"\${_shardrun_zsh_dir}\" TYPE FILE FILES \"${_shardrun_zsh_completion}\")
")

# Documentation: the README (the suite format, resources, report rules) and
# the commented example suites it points to as configs/*.yaml.
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/configs/
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/configs
        FILES_MATCHING PATTERN "*.yaml")

# --- the Debian package: cpack -G DEB ---
set(SHARDRUN_PACKAGE_MAINTAINER "shardrun maintainers <maintainers@shardrun.invalid>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shardrun)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SHARDRUN_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "run a YAML test suite across parallel shards and merge its JUnit XML")
# The long description, under the summary CPack puts first; one string
# (several arguments to set() would make a ;-separated list).
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "shardrun reads a YAML suite, prepares N shards (each with its own environment,\n"
  "temp directory, port, PostgreSQL schema or database and services), runs the\n"
  "suite's test commands across them as parallel processes, planned from a\n"
  "timing history, and merges every command's JUnit XML into one report that\n"
  "Jenkins, GitLab, GitHub test reporters and Azure read correctly.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # shardrun_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from dpkg-shlibdeps, for the shared libraries the binary links
# (libfmt, yaml-cpp, libfyaml, pugixml, libpq, libstdc++, libc), so
# `apt install ./shardrun_*.deb` pulls exactly those in.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "bash-completion")
set(CPACK_STRIP_FILES ON)  # the build keeps debug info; the package does not
include(CPack)
