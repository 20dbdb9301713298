# onnx: C bindings for ONNX's protobuf schema, generated at build time with
# protoc-c from the onnx.proto that Debian's libonnx-dev installs.
find_program(IA_PROTOC_C protoc-c REQUIRED)
set(IA_ONNX_PROTO /usr/include/onnx/onnx.proto CACHE FILEPATH "onnx.proto to generate bindings from")
set(IA_ONNX_GEN_DIR ${CMAKE_BINARY_DIR}/generated/onnx)
file(MAKE_DIRECTORY ${IA_ONNX_GEN_DIR})
get_filename_component(IA_ONNX_PROTO_DIR ${IA_ONNX_PROTO} DIRECTORY)
add_custom_command(
  OUTPUT ${IA_ONNX_GEN_DIR}/onnx.pb-c.c ${IA_ONNX_GEN_DIR}/onnx.pb-c.h
  COMMAND ${IA_PROTOC_C} --c_out=${IA_ONNX_GEN_DIR} -I${IA_ONNX_PROTO_DIR} ${IA_ONNX_PROTO}
  DEPENDS ${IA_ONNX_PROTO}
  COMMENT "protoc-c: generating ONNX bindings"
  VERBATIM)
# Generated code is not ours to fix; keep -Werror for everything else.
set_source_files_properties(${IA_ONNX_GEN_DIR}/onnx.pb-c.c PROPERTIES
  GENERATED TRUE COMPILE_OPTIONS "-w")
set_source_files_properties(${IA_ONNX_GEN_DIR}/onnx.pb-c.h PROPERTIES GENERATED TRUE)
list(APPEND IA_LIB_SOURCES ${IA_ONNX_GEN_DIR}/onnx.pb-c.c ${IA_ONNX_GEN_DIR}/onnx.pb-c.h)
# ${CMAKE_BINARY_DIR}/generated is already on the include path: code says
# #include "onnx/onnx.pb-c.h".
