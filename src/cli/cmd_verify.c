/* ipfs-accelerate verify MODEL [--json]: load an ONNX model and report
 * whether this build can run it (ia_onnx_verify_file does the work). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_model.h"
#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"

extern const struct ia_cli_command ia_cli_cmd_verify;

static const char usage[] =
    "Usage: ipfs-accelerate verify MODEL [--json]\n"
    "\n"
    "Checks that an ONNX model is well formed and that this build can run it:\n"
    "the file parses; IR version (3..10) and ai.onnx opset (7..21) are supported;\n"
    "nodes are in topological order and every node input is defined; value names\n"
    "are unique; every initializer's bytes match its dims and dtype; external data\n"
    "stays inside the model's folder and is long enough; every op has a kernel.\n"
    "Shape consistency is not checked yet (it comes with shape inference).\n"
    "\n"
    "MODEL is a path to a .onnx file, or the CID of one in the store (a file,\n"
    "or a folder holding one .onnx and its external data; see `add`, `fetch`).\n"
    "A CID is copied once into $IA_HOME/cache/models/<CID>/ from verified\n"
    "blocks, and the copy is checked again each time it is used; the report\n"
    "then names the copy's file too.\n"
    "\n"
    "Options:\n"
    "  --json      print the report as JSON on stdout\n"
    "  -h, --help  show this help\n"
    "\n"
    "Exit status: 0 every check passed; 1 a check failed or the model could not\n"
    "be read (one line per reason on stderr); 2 usage error.\n";

/* Names come from the file: print them only as printable ASCII. */
static const char *clean(char *buf, size_t cap, const char *s) {
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    buf[i] = '\0';
    return buf;
}

static const char *type_word(enum ia_onnx_type t) {
    switch (t) {
    case IA_ONNX_TYPE_SEQUENCE: return "sequence";
    case IA_ONNX_TYPE_OPTIONAL: return "optional";
    case IA_ONNX_TYPE_MAP: return "map";
    case IA_ONNX_TYPE_SPARSE_TENSOR: return "sparse_tensor";
    case IA_ONNX_TYPE_TENSOR: return "tensor";
    default: return "unknown";
    }
}

static void print_value(const struct ia_onnx_value *v) {
    char b[256];
    printf("  %s  ", clean(b, sizeof b, v->name));
    if (!v->is_tensor) {
        /* "sequence of float32", "optional sequence of int64", "map" */
        if (v->type == IA_ONNX_TYPE_SEQUENCE || v->type == IA_ONNX_TYPE_OPTIONAL)
            printf("%s%s%s of %s\n", type_word(v->type),
                   v->elem_type == IA_ONNX_TYPE_SEQUENCE ? " " : "",
                   v->elem_type == IA_ONNX_TYPE_SEQUENCE ? "sequence" : "",
                   v->elem_dtype != IA_DTYPE_UNDEFINED ? ia_dtype_name(v->elem_dtype) : "?");
        else
            printf("(%s, not a tensor)\n", type_word(v->type));
        return;
    }
    printf("%s", v->dtype != IA_DTYPE_UNDEFINED ? ia_dtype_name(v->dtype)
                                                : ia_onnx_proto_type_name(v->onnx_elem_type));
    if (!v->has_shape) {
        printf(" [shape unknown]\n");
        return;
    }
    printf(" [");
    for (size_t i = 0; i < v->rank; i++) {
        if (i) printf(", ");
        if (v->dims[i].value >= 0)
            printf("%lld", (long long)v->dims[i].value);
        else if (v->dims[i].param)
            printf("%s", clean(b, sizeof b, v->dims[i].param));
        else
            printf("?");
    }
    printf("]\n");
}

static const char *status_word(enum ia_check_status s) {
    return s == IA_CHECK_OK ? "ok" : s == IA_CHECK_FAIL ? "FAIL" : "skip";
}

static void print_human(const char *path, const char *file, const struct ia_model *m,
                        const struct ia_verify_report *r) {
    char b[256], b2[256];
    printf("model:         %s\n", clean(b, sizeof b, path));
    if (file) printf("file:          %s\n", clean(b, sizeof b, file));
    if (m) {
        printf("graph:         %s\n",
               *m->graph.name ? clean(b, sizeof b, m->graph.name) : "(unnamed)");
        printf("ir_version:    %lld\n", (long long)m->ir_version);
        printf("opsets:       ");
        if (!m->n_opsets) printf(" none");
        for (size_t i = 0; i < m->n_opsets; i++)
            printf("%s %s %lld", i ? "," : "",
                   *m->opsets[i].domain ? clean(b, sizeof b, m->opsets[i].domain) : "ai.onnx",
                   (long long)m->opsets[i].version);
        printf("\n");
        if (*m->producer_name)
            printf("producer:      %s %s\n", clean(b, sizeof b, m->producer_name),
                   clean(b2, sizeof b2, m->producer_version));
        printf("nodes:         %llu", (unsigned long long)r->n_nodes);
        if (r->n_subgraph_nodes)
            printf(" (+%llu in subgraphs)", (unsigned long long)r->n_subgraph_nodes);
        printf("\n");
        printf("initializers:  %llu (%llu params, %llu bytes)\n",
               (unsigned long long)r->n_initializers, (unsigned long long)r->n_params,
               (unsigned long long)r->weight_bytes);
        printf("inputs:\n");
        for (size_t i = 0; i < m->graph.n_inputs; i++) print_value(&m->graph.inputs[i]);
        printf("outputs:\n");
        for (size_t i = 0; i < m->graph.n_outputs; i++) print_value(&m->graph.outputs[i]);
        if (m->n_props) {
            printf("metadata:\n");
            for (size_t i = 0; i < m->n_props; i++)
                printf("  %s = %s\n", clean(b, sizeof b, m->props[i].key),
                       clean(b2, sizeof b2, m->props[i].value));
        }
    }
    printf("checks:\n");
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++) {
        const struct ia_verify_check *c = &r->checks[i];
        printf("  %-5s %-14s %s\n", status_word(c->status), c->name,
               c->detail ? c->detail : c->title);
        for (size_t k = 0; k < c->n_reasons; k++) printf("        %s\n", c->reasons[k]);
        if (c->n_more) printf("        ... and %zu more\n", c->n_more);
    }
    if (r->ok)
        printf("result: ok\n");
    else
        printf("result: FAIL (%d of %d checks failed)\n", r->n_failed, IA_VERIFY_CHECK_COUNT);
}

/* json_string refuses invalid UTF-8: fall back to the cleaned text. */
static json_t *jstr(const char *s) {
    json_t *j = json_string(s ? s : "");
    if (j) return j;
    char b[1024];
    return json_string(clean(b, sizeof b, s));
}

static json_t *json_value(const struct ia_onnx_value *v) {
    json_t *o = json_object();
    json_object_set_new(o, "name", jstr(v->name));
    json_object_set_new(o, "dtype",
                        v->is_tensor ? json_string(v->dtype != IA_DTYPE_UNDEFINED
                                                       ? ia_dtype_name(v->dtype)
                                                       : ia_onnx_proto_type_name(v->onnx_elem_type))
                                     : json_null());
    if (!v->is_tensor) {
        json_object_set_new(o, "type", json_string(type_word(v->type)));
        if (v->type == IA_ONNX_TYPE_OPTIONAL)
            json_object_set_new(o, "elem_type", json_string(type_word(v->elem_type)));
        json_object_set_new(o, "elem_dtype", v->elem_dtype != IA_DTYPE_UNDEFINED
                                                 ? json_string(ia_dtype_name(v->elem_dtype))
                                                 : json_null());
    }
    if (!v->has_shape) {
        json_object_set_new(o, "shape", json_null());
        return o;
    }
    json_t *sh = json_array();
    for (size_t i = 0; i < v->rank; i++) {
        if (v->dims[i].value >= 0)
            json_array_append_new(sh, json_integer(v->dims[i].value));
        else if (v->dims[i].param)
            json_array_append_new(sh, jstr(v->dims[i].param));
        else
            json_array_append_new(sh, json_null());
    }
    json_object_set_new(o, "shape", sh);
    return o;
}

static int print_json(const char *path, const char *file, const struct ia_model *m,
                      const struct ia_verify_report *r) {
    json_t *o = json_object();
    json_object_set_new(o, "model", jstr(path));
    if (file) json_object_set_new(o, "file", jstr(file));
    json_object_set_new(o, "ok", json_boolean(r->ok));
    if (m) {
        json_object_set_new(o, "graph", jstr(m->graph.name));
        json_object_set_new(o, "ir_version", json_integer(m->ir_version));
        json_object_set_new(o, "producer",
                            json_pack("{s:o,s:o}", "name", jstr(m->producer_name), "version",
                                      jstr(m->producer_version)));
        json_t *ops = json_array();
        for (size_t i = 0; i < m->n_opsets; i++)
            json_array_append_new(
                ops, json_pack("{s:o,s:I}", "domain",
                               jstr(*m->opsets[i].domain ? m->opsets[i].domain : "ai.onnx"),
                               "version", (json_int_t)m->opsets[i].version));
        json_object_set_new(o, "opsets", ops);
        json_t *in = json_array(), *out = json_array(), *meta = json_object();
        for (size_t i = 0; i < m->graph.n_inputs; i++)
            json_array_append_new(in, json_value(&m->graph.inputs[i]));
        for (size_t i = 0; i < m->graph.n_outputs; i++)
            json_array_append_new(out, json_value(&m->graph.outputs[i]));
        for (size_t i = 0; i < m->n_props; i++) {
            char b[1024];
            json_object_set_new(meta, clean(b, sizeof b, m->props[i].key), jstr(m->props[i].value));
        }
        json_object_set_new(o, "inputs", in);
        json_object_set_new(o, "outputs", out);
        json_object_set_new(o, "metadata", meta);
    }
    json_object_set_new(o, "counts",
                        json_pack("{s:I,s:I,s:I,s:I,s:I}", "nodes", (json_int_t)r->n_nodes,
                                  "subgraph_nodes", (json_int_t)r->n_subgraph_nodes, "initializers",
                                  (json_int_t)r->n_initializers, "params", (json_int_t)r->n_params,
                                  "weight_bytes", (json_int_t)r->weight_bytes));
    json_t *checks = json_array();
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++) {
        const struct ia_verify_check *c = &r->checks[i];
        json_t *reasons = json_array();
        for (size_t k = 0; k < c->n_reasons; k++)
            json_array_append_new(reasons, jstr(c->reasons[k]));
        json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:o,s:o,s:I}", "name", c->name,
                                                "title", c->title, "status",
                                                c->status == IA_CHECK_OK     ? "ok"
                                                : c->status == IA_CHECK_FAIL ? "fail"
                                                                             : "skipped",
                                                "detail", c->detail ? jstr(c->detail) : json_null(),
                                                "reasons", reasons, "more", (json_int_t)c->n_more));
    }
    json_object_set_new(o, "checks", checks);
    json_t *ops = json_array();
    for (size_t i = 0; i < r->n_ops; i++)
        json_array_append_new(
            ops, json_pack("{s:o,s:o,s:I,s:I,s:b}", "domain", jstr(r->ops[i].domain), "op_type",
                           jstr(r->ops[i].op_type), "opset", (json_int_t)r->ops[i].opset, "count",
                           (json_int_t)r->ops[i].count, "supported", r->ops[i].supported));
    json_object_set_new(o, "ops", ops);
    int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
    json_decref(o);
    return rc == 0 ? CLI_OK : cli_fail("verify", "cannot write JSON");
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {CLI_HELP_OPTION, {"json", no_argument, NULL, 'j'}, {0}};
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        int rc = cli_common_opt(&ia_cli_cmd_verify, c, argv);
        if (rc >= 0) return rc;
        if (c == 'j') json = 1;
    }
    if (optind >= argc) return cli_usage("verify", "missing MODEL");
    if (optind + 1 < argc) return cli_usage("verify", "one MODEL at a time");
    const char *path = argv[optind];
    char cid_file[4096];
    int is_cid;
    int rc = cli_model_path("verify", path, cid_file, sizeof cid_file, &is_cid);
    if (rc != CLI_OK) return rc;
    const char *file = is_cid ? cid_file : NULL;

    struct ia_verify_report r;
    struct ia_model *m = NULL;
    rc = ia_onnx_verify_file(file ? file : path, ia_engine_verify_opts(), &r, &m);
    if (rc != IA_OK) {
        ia_verify_report_free(&r);
        return cli_fail_lib("verify");
    }
    int status = json ? print_json(path, file, m, &r) : (print_human(path, file, m, &r), CLI_OK);
    fflush(stdout);
    if (!r.ok) {
        char b[512];
        for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++) {
            const struct ia_verify_check *ck = &r.checks[i];
            for (size_t k = 0; k < ck->n_reasons; k++)
                cli_fail("verify", "%s: %s", clean(b, sizeof b, path), ck->reasons[k]);
            if (ck->n_more)
                cli_fail("verify", "%s: ... and %zu more", clean(b, sizeof b, path), ck->n_more);
        }
        status = CLI_FAILED;
    }
    ia_verify_report_free(&r);
    ia_model_free(m);
    return status;
}

const struct ia_cli_command ia_cli_cmd_verify = {
    .name = "verify",
    .summary = "check an ONNX model: structure, tensors, opsets, supported ops",
    .usage = usage,
    .run = run,
};
