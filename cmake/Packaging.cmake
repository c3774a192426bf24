# The Debian package (scripts/package; docs/operations.md, "The Debian
# package"): the binary, its man pages and an example configuration made
# from it (packaging/make-extras.sh), the docs, the two hardened systemd
# units and the maintainer scripts that create their users.

include(GNUInstallDirs)

# `cpack` installs into its staging tree; without this it would first build
# every target (benchmarks, tests) where the package needs two.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(REMPART_EXTRAS_DIR ${PROJECT_BINARY_DIR}/package-extras)
add_custom_command(
  OUTPUT ${REMPART_EXTRAS_DIR}/stamp
  COMMAND ${PROJECT_SOURCE_DIR}/packaging/make-extras.sh $<TARGET_FILE:rempart> ${REMPART_EXTRAS_DIR}
  COMMAND ${CMAKE_COMMAND} -E touch ${REMPART_EXTRAS_DIR}/stamp
  DEPENDS rempart ${PROJECT_SOURCE_DIR}/packaging/make-extras.sh
  COMMENT "Man pages (help2man) and the example configuration"
  VERBATIM)
# Not part of `all`: help2man is a packaging dependency only (scripts/deps package).
add_custom_target(rempart_package_extras DEPENDS ${REMPART_EXTRAS_DIR}/stamp)

install(TARGETS rempart RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS packaging/rempart-setup DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES packaging/systemd/rempart-intake.service packaging/systemd/rempart-keeper.service
        DESTINATION lib/systemd/system)
install(DIRECTORY ${REMPART_EXTRAS_DIR}/man/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
install(FILES ${REMPART_EXTRAS_DIR}/examples/rempart.toml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples OPTIONAL)
file(GLOB REMPART_DOCS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${REMPART_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rempart)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "rempart maintainers <rempart@invalid.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "supporter database built to survive a breach")
set(CPACK_PACKAGE_DESCRIPTION
    "An internet-facing intake that holds no secret seals sign-ups into an inbox;\n a keeper that holds the keys folds them into records encrypted field by field.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # rempart_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The runtime libraries come from dpkg-shlibdeps; adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/deb/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
