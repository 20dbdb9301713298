# The op registry is generated: every `const struct ia_op_def ia_op_<Name> = `
# definition under src/kernels/ becomes one entry of ops_registry.inc, so
# kernel files never edit a shared table. Editing a kernel file re-runs this
# scan (CMAKE_CONFIGURE_DEPENDS).
file(GLOB_RECURSE ia_kernel_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/kernels/*.c)
list(SORT ia_kernel_srcs)
set(ia_ops_inc "")
foreach(f ${ia_kernel_srcs})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
  file(STRINGS ${f} defs REGEX "^const struct ia_op_def ia_op_[A-Za-z0-9_]+ *=")
  foreach(d ${defs})
    string(REGEX REPLACE "^const struct ia_op_def ia_op_([A-Za-z0-9_]+) *=.*" "\\1" name "${d}")
    string(APPEND ia_ops_inc "IA_OP_ENTRY(${name})\n")
  endforeach()
endforeach()
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/generated/ops_registry.inc CONTENT "${ia_ops_inc}")
