/*
 * onnx: read, check and write ONNX model files.
 *
 * ia_onnx_load turns a .onnx file (protobuf ModelProto, parsed with
 * protobuf-c bindings generated from Debian's onnx.proto) into a struct
 * ia_model: plain read-only data the graph module and the engine walk
 * directly. Every initializer's bytes are bound and checked at load time
 * (dims >= 0, no overflow, byte size = numel x element size, external data
 * inside the model's folder and long enough), so a model that loads has no
 * tensor the engine could over-read.
 *
 * ia_onnx_verify checks what a runnable model needs (IR version, opsets,
 * topological order, defined inputs, unique names, tensor sizes, ops the
 * engine has kernels for) and returns a report with a reason per failure.
 *
 * ia_onnx_builder assembles a model in memory and serialises it (the zoo
 * emits models with it); ia_onnx_write saves a loaded model through it.
 *
 * Host byte order must be little-endian (ONNX raw_data is little-endian and
 * tensor data is exposed as-is); the build refuses big-endian hosts.
 */
#ifndef IA_ONNX_H
#define IA_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "ia/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protobuf's own limit: a serialised message is at most 2 GiB. Bigger
 * models keep their weights in external data files. */
#define IA_ONNX_MAX_FILE_BYTES ((uint64_t)2 << 30)
/* Deepest nesting of protobuf messages accepted (subgraphs inside
 * attributes, nested TypeProtos); deeper input is refused before parsing so
 * neither protobuf-c nor our conversion can run out of stack. */
#define IA_ONNX_MAX_NESTING 64

/* ---- the model -------------------------------------------------------- */

struct ia_onnx_bytes {
    const uint8_t *data; /* not NUL-terminated; NULL when len == 0 */
    size_t len;
};

/* One dimension of a declared shape. */
struct ia_onnx_dim {
    int64_t value;     /* >= 0 when known, -1 when symbolic or unknown */
    const char *param; /* symbolic name ("batch"), or NULL */
};

/* What a declared value is (TypeProto's value case). Tensor is 0, so a
 * value built without setting it is a tensor. */
enum ia_onnx_type {
    IA_ONNX_TYPE_TENSOR = 0,
    IA_ONNX_TYPE_SEQUENCE,
    IA_ONNX_TYPE_OPTIONAL,
    IA_ONNX_TYPE_MAP,
    IA_ONNX_TYPE_SPARSE_TENSOR,
    IA_ONNX_TYPE_NONE, /* no type given */
};

/* A graph input, output or value_info entry. */
struct ia_onnx_value {
    const char *name;
    int is_tensor;          /* 0: sequence/map/optional/sparse (see type) */
    enum ia_dtype dtype;    /* UNDEFINED when not a tensor or a type we lack */
    int32_t onnx_elem_type; /* TensorProto.DataType number as in the file */
    int has_shape;          /* 0: rank unknown (dims NULL) */
    size_t rank;
    struct ia_onnx_dim *dims; /* (rank) */
    /* Set by the loader when is_tensor is 0: what the value is; for a
     * sequence or optional, what it holds (an optional sequence: SEQUENCE)
     * and the element type of the tensors inside (UNDEFINED when not
     * declared or not a type we have). */
    enum ia_onnx_type type;
    enum ia_onnx_type elem_type;
    enum ia_dtype elem_dtype;
};

enum ia_onnx_data_location {
    IA_ONNX_DATA_RAW = 0,  /* raw_data in the file (or no data: numel == 0) */
    IA_ONNX_DATA_TYPED,    /* float_data, int32_data, ... converted to packed bytes */
    IA_ONNX_DATA_EXTERNAL, /* a file next to the model, mapped with mmap */
};

/* An initializer or attribute tensor with its bytes bound. */
struct ia_onnx_tensor {
    const char *name;
    enum ia_dtype dtype; /* UNDEFINED for types we lack (complex, float8, int4) */
    int32_t onnx_type;   /* TensorProto.DataType number as in the file */
    size_t rank;
    const int64_t *dims; /* (rank), each >= 0 once loaded without problems */
    uint64_t numel;
    /* numel packed little-endian elements, aligned to the element size;
     * NULL when numel == 0, for strings, or when `problem` is set. Valid
     * until ia_model_free. */
    const void *data;
    uint64_t nbytes; /* numel * ia_dtype_size(dtype) */
    enum ia_onnx_data_location location;
    const char *ext_location; /* external data only: as written in the file */
    uint64_t ext_offset, ext_length;
    size_t n_strings; /* STRING tensors: numel entries */
    const struct ia_onnx_bytes *strings;
    /* Why the data could not be bound; only ever set when the model was
     * loaded with IA_ONNX_LOAD_KEEP_GOING (plain loads fail instead). */
    const char *problem;
};

/* Attribute types, numbered as ONNX's AttributeProto.AttributeType. */
enum ia_onnx_attr_type {
    IA_ONNX_ATTR_UNDEFINED = 0,
    IA_ONNX_ATTR_FLOAT = 1,
    IA_ONNX_ATTR_INT = 2,
    IA_ONNX_ATTR_STRING = 3,
    IA_ONNX_ATTR_TENSOR = 4,
    IA_ONNX_ATTR_GRAPH = 5,
    IA_ONNX_ATTR_FLOATS = 6,
    IA_ONNX_ATTR_INTS = 7,
    IA_ONNX_ATTR_STRINGS = 8,
    IA_ONNX_ATTR_TENSORS = 9,
    IA_ONNX_ATTR_GRAPHS = 10,
    IA_ONNX_ATTR_SPARSE_TENSOR = 11,  /* kept as a type only: no content */
    IA_ONNX_ATTR_SPARSE_TENSORS = 12, /* idem */
    IA_ONNX_ATTR_TYPE_PROTO = 13,     /* idem */
    IA_ONNX_ATTR_TYPE_PROTOS = 14,    /* idem */
};

struct ia_onnx_graph;

struct ia_onnx_attr {
    const char *name;
    enum ia_onnx_attr_type type;
    float f;                              /* FLOAT */
    int64_t i;                            /* INT */
    struct ia_onnx_bytes s;               /* STRING */
    const struct ia_onnx_tensor *t;       /* TENSOR */
    const struct ia_onnx_graph *g;        /* GRAPH */
    size_t n;                             /* element count of the list types */
    const float *floats;                  /* FLOATS (n) */
    const int64_t *ints;                  /* INTS (n) */
    const struct ia_onnx_bytes *strings;  /* STRINGS (n) */
    const struct ia_onnx_tensor *tensors; /* TENSORS (n) */
    const struct ia_onnx_graph *graphs;   /* GRAPHS (n) */
};

struct ia_onnx_node {
    const char *name; /* "" when the file has none */
    const char *op_type;
    const char *domain; /* "" for the default domain (ai.onnx) */
    size_t n_inputs;
    const char *const *inputs; /* "" marks an omitted optional input */
    size_t n_outputs;
    const char *const *outputs; /* "" marks an unused optional output */
    size_t n_attrs;
    const struct ia_onnx_attr *attrs;
};

struct ia_onnx_graph {
    const char *name;
    size_t n_inputs;
    const struct ia_onnx_value *inputs;
    size_t n_outputs;
    const struct ia_onnx_value *outputs;
    size_t n_value_info;
    const struct ia_onnx_value *value_info;
    size_t n_nodes;
    const struct ia_onnx_node *nodes; /* in file order */
    size_t n_initializers;
    const struct ia_onnx_tensor *initializers;
    size_t n_sparse_initializers; /* counted, not converted (unsupported) */
};

struct ia_onnx_opset {
    const char *domain; /* "" for ai.onnx */
    int64_t version;
};

struct ia_onnx_prop {
    const char *key, *value;
};

/* Checks a verify report contains; load problems are filed under one. */
enum ia_verify_check_id {
    IA_VERIFY_PARSE = 0,     /* the file is a ModelProto with a graph */
    IA_VERIFY_IR_VERSION,    /* ir_version in [IA_ONNX_IR_MIN, IA_ONNX_IR_MAX] */
    IA_VERIFY_OPSET,         /* default-domain opset in range; node domains imported */
    IA_VERIFY_GRAPH,         /* topological order, defined inputs, unique names */
    IA_VERIFY_INITIALIZERS,  /* dims >= 0, no overflow, bytes = numel x size */
    IA_VERIFY_EXTERNAL_DATA, /* inside the model folder, exists, long enough */
    IA_VERIFY_OPS,           /* every op has a kernel (ia_verify_opts.op_supported) */
    IA_VERIFY_SHAPES,        /* shapes infer consistently (ia_verify_opts.check_shapes) */
    IA_VERIFY_CHECK_COUNT
};

/* A problem found while loading with IA_ONNX_LOAD_KEEP_GOING. */
struct ia_onnx_problem {
    enum ia_verify_check_id check;
    const char *msg; /* one line naming the tensor/node/value */
};

struct ia_model_priv;

struct ia_model {
    const char *path; /* the file loaded, or NULL (from memory) */
    int64_t ir_version;
    const char *producer_name, *producer_version, *domain, *doc_string; /* "" if absent */
    int64_t model_version;
    size_t n_opsets;
    const struct ia_onnx_opset *opsets;
    size_t n_props;
    const struct ia_onnx_prop *props; /* metadata_props */
    struct ia_onnx_graph graph;
    size_t n_functions; /* model-local functions: counted only */
    size_t n_problems;  /* only with IA_ONNX_LOAD_KEEP_GOING */
    const struct ia_onnx_problem *problems;
    struct ia_model_priv *priv; /* memory and mappings behind the pointers above */
};

/* Load flags. */
enum {
    /* Record tensor problems (bad sizes, external data) in model->problems
     * and tensor->problem instead of failing; verify uses this to report
     * every problem at once. A model loaded so must not be run. */
    IA_ONNX_LOAD_KEEP_GOING = 1u << 0,
};

/* Loads the model at `path`. External data is resolved against the file's
 * folder. On success *out owns everything it points to (free it with
 * ia_model_free). Errors: IA_ENOTFOUND (no such file), IA_EIO, IA_ERANGE
 * (file over IA_ONNX_MAX_FILE_BYTES or too deeply nested), IA_EFORMAT
 * ("PATH: not a valid ONNX model (protobuf parse failed)", or the first
 * tensor problem), IA_ENOMEM. */
int ia_onnx_load(const char *path, struct ia_model **out);
int ia_onnx_load_ex(const char *path, unsigned flags, struct ia_model **out);
/* The same from bytes in memory; `buf` is not kept. External data is
 * resolved against `base_dir`; with base_dir NULL any external tensor is a
 * problem. */
int ia_onnx_load_memory(const void *buf, size_t len, const char *base_dir, unsigned flags,
                        struct ia_model **out);
/* Frees the model and unmaps its external data; NULL is fine. */
void ia_model_free(struct ia_model *m);

/* Maps an ONNX TensorProto.DataType number to ours (UNDEFINED when we
 * lack it) and back (0 for UNDEFINED). */
enum ia_dtype ia_onnx_dtype_from_proto(int32_t onnx_type);
int32_t ia_onnx_dtype_to_proto(enum ia_dtype t);
/* "float", "complex64", ... as ONNX names its DataType values; "type N"
 * style numbers are not returned: unknown values give "unknown". */
const char *ia_onnx_proto_type_name(int32_t onnx_type);

/* The version imported for `domain` ("" or "ai.onnx": the default domain), or 0
 * when the model does not import it. */
int64_t ia_onnx_opset_version(const struct ia_model *m, const char *domain);

/* ---- verify ----------------------------------------------------------- */

#define IA_ONNX_IR_MIN 3
#define IA_ONNX_IR_MAX 10
#define IA_ONNX_OPSET_MIN 7
#define IA_ONNX_OPSET_MAX 21
/* Reasons kept per check; the rest are counted in n_more. */
#define IA_VERIFY_MAX_REASONS 32

enum ia_check_status { IA_CHECK_OK = 0, IA_CHECK_FAIL, IA_CHECK_SKIPPED };

struct ia_verify_check {
    const char *name;  /* static: "parse", "ir_version", ... */
    const char *title; /* static: what it checks, for people */
    enum ia_check_status status;
    char *detail;     /* one line shown next to ok/skip ("8 (supported 3..10)"), or NULL */
    size_t n_reasons; /* FAIL: one line each, naming the tensor/node */
    char **reasons;
    size_t n_more; /* reasons left out beyond IA_VERIFY_MAX_REASONS */
};

/* One op type as used in the model (subgraphs included). */
struct ia_verify_op {
    char *domain; /* "ai.onnx" for the default domain */
    char *op_type;
    int64_t opset; /* the imported version for its domain, 0 if none */
    uint64_t count;
    int supported;
};

struct ia_verify_report {
    int ok; /* 1 when no check failed (skipped checks do not fail) */
    int n_failed;
    struct ia_verify_check checks[IA_VERIFY_CHECK_COUNT];
    uint64_t n_nodes;          /* main graph */
    uint64_t n_subgraph_nodes; /* inside If/Loop/Scan bodies */
    uint64_t n_initializers;
    uint64_t n_params;     /* elements over all initializers */
    uint64_t weight_bytes; /* bytes over all initializers */
    size_t n_ops;
    struct ia_verify_op *ops; /* sorted by domain, then op_type */
};

/* What verify asks of the layers below it: the onnx module sits above the
 * kernels and the graph on the path of the data, so the engine hands these
 * in (ia_engine_verify_opts) rather than onnx calling down. A NULL function
 * marks its check as skipped ("not checked"), never as passed. */
struct ia_verify_opts {
    /* 1 when the engine has a kernel for (domain, op_type) at opset; domain
     * "ai.onnx" is the default domain. */
    int (*op_supported)(const char *domain, const char *op_type, int64_t opset);
    /* IA_OK when shapes infer consistently; otherwise a negative code with
     * the reason (naming the node) in ia_error_msg(). Called only when every
     * other check passed. */
    int (*check_shapes)(const struct ia_model *m);
};

/* Checks `m` and fills `r` (zeroed first; free with ia_verify_report_free
 * even on failure). Returns IA_OK when the checks ran, whatever they found
 * (r->ok says); IA_ENOMEM otherwise. */
int ia_onnx_verify(const struct ia_model *m, const struct ia_verify_opts *opts,
                   struct ia_verify_report *r);
/* Loads `path` with IA_ONNX_LOAD_KEEP_GOING and verifies it. A file that
 * does not parse gives IA_OK with the parse check failed and the others
 * skipped. Returns IA_ENOTFOUND when the file does not exist, IA_EIO when
 * it cannot be read. On IA_OK, *model_out (when not NULL) gets the model
 * (NULL if it did not parse); the caller frees it. */
int ia_onnx_verify_file(const char *path, const struct ia_verify_opts *opts,
                        struct ia_verify_report *r, struct ia_model **model_out);
int ia_onnx_verify_memory(const void *buf, size_t len, const char *base_dir,
                          const struct ia_verify_opts *opts, struct ia_verify_report *r,
                          struct ia_model **model_out);
void ia_verify_report_free(struct ia_verify_report *r);

/* ---- build and write -------------------------------------------------- */

/* A model under construction. Everything added is copied, so callers may
 * free their arguments as soon as a call returns. Names are not checked
 * here: run ia_onnx_verify on the result. */
struct ia_onnx_builder;

int ia_onnx_builder_create(struct ia_onnx_builder **out);
void ia_onnx_builder_destroy(struct ia_onnx_builder *b);
/* ir_version 0 means 8, the IR version of the onnx.proto we build against. */
int ia_onnx_builder_set_info(struct ia_onnx_builder *b, const char *graph_name,
                             const char *producer_name, const char *producer_version,
                             int64_t ir_version);
int ia_onnx_builder_add_opset(struct ia_onnx_builder *b, const char *domain, int64_t version);
int ia_onnx_builder_add_metadata(struct ia_onnx_builder *b, const char *key, const char *value);
/* rank < 0: shape unknown. dims[i].value < 0 with a param: symbolic; with
 * neither: unknown dim. */
int ia_onnx_builder_add_input(struct ia_onnx_builder *b, const char *name, enum ia_dtype dtype,
                              int rank, const struct ia_onnx_dim *dims);
int ia_onnx_builder_add_output(struct ia_onnx_builder *b, const char *name, enum ia_dtype dtype,
                               int rank, const struct ia_onnx_dim *dims);
/* Stored as raw_data. `nbytes` must equal numel x element size
 * (IA_EINVAL otherwise); string tensors are IA_EUNSUPPORTED. */
int ia_onnx_builder_add_initializer(struct ia_onnx_builder *b, const char *name,
                                    enum ia_dtype dtype, size_t rank, const int64_t *dims,
                                    const void *data, size_t nbytes);
/* An initializer whose bytes the caller writes to an external data file:
 * `location` is relative to the model's folder, the bytes sit at `offset`
 * and are `nbytes` long (numel x element size, IA_EINVAL otherwise). Keeps
 * models over the 2 GiB protobuf limit writable. */
int ia_onnx_builder_add_external_initializer(struct ia_onnx_builder *b, const char *name,
                                             enum ia_dtype dtype, size_t rank,
                                             const int64_t *dims, const char *location,
                                             uint64_t offset, uint64_t nbytes);
/* Adds a node; attributes of type FLOAT(S), INT(S), STRING(S) and TENSOR(S)
 * are supported, others give IA_EUNSUPPORTED. */
int ia_onnx_builder_add_node(struct ia_onnx_builder *b, const struct ia_onnx_node *node);
/* Serialises to a new buffer the caller frees with ia_free. IA_ERANGE when
 * the result would exceed IA_ONNX_MAX_FILE_BYTES. */
int ia_onnx_builder_serialize(const struct ia_onnx_builder *b, uint8_t **buf, size_t *len);
/* Writes to `path` through a temporary file renamed into place. */
int ia_onnx_builder_write(const struct ia_onnx_builder *b, const char *path);

/* Writes a loaded model (external data is inlined as raw_data; subgraph,
 * sparse and type attributes give IA_EUNSUPPORTED). */
int ia_onnx_write(const struct ia_model *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif
