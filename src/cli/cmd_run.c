/* ipfs-accelerate run MODEL -i NAME=FILE ... [-o DIR] [--npy] [--threads N]
 * [--json]: run an ONNX model once on the CPU with inputs from tensor files
 * and write each output as a file. The engine does the work. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_model.h"
#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"

extern const struct ia_cli_command ia_cli_cmd_run;

static const char usage[] =
    "Usage: ipfs-accelerate run MODEL -i NAME=FILE ... [-o DIR] [--npy] [--threads N] [--json]\n"
    "\n"
    "Runs an ONNX model once on the CPU. Each -i gives the graph input NAME from\n"
    "FILE: an ONNX TensorProto (.pb) or a numpy array (.npy), by extension.\n"
    "Inputs are checked against the model's declared types: dtype, rank and\n"
    "every fixed dim must match; symbolic dims take the size given and must\n"
    "agree across inputs. Each output is written as DIR/<output name>.pb (or\n"
    ".npy with --npy); characters other than letters, digits, '.', '-' and '_'\n"
    "in the name become '_'. A summary (outputs, shapes, time) is printed.\n"
    "\n"
    "MODEL is a path to a .onnx file, or the CID of one in the store (a file,\n"
    "or a folder holding one .onnx and its external data; see `add`, `fetch`).\n"
    "A CID is copied once into $IA_HOME/cache/models/<CID>/ from verified\n"
    "blocks, and the copy is checked again each time it is used.\n"
    "\n"
    "Options:\n"
    "  -i, --input NAME=FILE  a graph input (repeat for each)\n"
    "  -o, --output-dir DIR   where outputs go (default: the current folder;\n"
    "                         created if missing)\n"
    "  --npy                  write outputs as .npy instead of .pb\n"
    "  -t, --threads N        worker threads (default: all logical CPUs)\n"
    "  --json                 print the summary as JSON on stdout\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 the model ran and every output was written; 1 it could not\n"
    "be loaded or run (the reason on stderr); 2 usage error.\n";

#define MAX_INPUTS 256

static int mkdir_p(const char *dir) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = c;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

/* A file name from an output name: safe characters only, never "." or
 * "..", never empty, and unique among the outputs already named. */
static void safe_name(const char *name, char names[][200], size_t idx, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < cap && n < 150; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
    if (n == 0) snprintf(out, cap, "output");
    if (out[0] == '.') out[0] = '_';
    char base[200];
    snprintf(base, sizeof base, "%s", out);
    for (int k = 1;; k++) {
        int clash = 0;
        for (size_t j = 0; j < idx; j++)
            if (!strcmp(names[j], out)) clash = 1;
        if (!clash) break;
        snprintf(out, cap, "%.150s_%d", base, k);
    }
}

static json_t *jstr(const char *s) {
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("?");
}

static void shape_text(const struct ia_tensor *t, char *buf, size_t cap) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < t->rank && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static int run(int argc, char **argv) {
    const char *cmd = ia_cli_cmd_run.name;
    static const struct option lo[] = {{"input", required_argument, NULL, 'i'},
                                       {"output-dir", required_argument, NULL, 'o'},
                                       {"npy", no_argument, NULL, 'N'},
                                       {"threads", required_argument, NULL, 't'},
                                       {"json", no_argument, NULL, 'J'},
                                       CLI_HELP_OPTION,
                                       {NULL, 0, NULL, 0}};
    const char *in_names[MAX_INPUTS], *in_files[MAX_INPUTS];
    char *in_specs[MAX_INPUTS];
    size_t n_in = 0;
    const char *out_dir = ".";
    int npy = 0, json = 0, threads = 0, c;
    while ((c = getopt_long(argc, argv, ":i:o:t:h", lo, NULL)) != -1) {
        int r = cli_common_opt(&ia_cli_cmd_run, c, argv);
        if (r >= 0) {
            for (size_t i = 0; i < n_in; i++) free(in_specs[i]);
            return r;
        }
        switch (c) {
        case 'i': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                for (size_t i = 0; i < n_in; i++) free(in_specs[i]);
                return cli_usage(cmd, "-i wants NAME=FILE, got '%s'", optarg);
            }
            if (n_in == MAX_INPUTS) {
                for (size_t i = 0; i < n_in; i++) free(in_specs[i]);
                return cli_usage(cmd, "more than %d inputs", MAX_INPUTS);
            }
            char *spec = strdup(optarg);
            if (!spec) return cli_fail(cmd, "out of memory");
            spec[eq - optarg] = '\0';
            in_specs[n_in] = spec;
            in_names[n_in] = spec;
            in_files[n_in] = spec + (eq - optarg) + 1;
            n_in++;
            break;
        }
        case 'o':
            out_dir = optarg;
            break;
        case 'N':
            npy = 1;
            break;
        case 'J':
            json = 1;
            break;
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 4096) {
                for (size_t i = 0; i < n_in; i++) free(in_specs[i]);
                return cli_usage(cmd, "--threads wants a number from 1 to 4096, got '%s'", optarg);
            }
            threads = (int)v;
            break;
        }
        default:
            for (size_t i = 0; i < n_in; i++) free(in_specs[i]);
            return cli_usage(cmd, "option '%s' needs a value", argv[optind - 1]);
        }
    }
    int status = CLI_FAILED;
    struct ia_model *m = NULL;
    struct ia_session *s = NULL;
    struct ia_tensor *tensors[MAX_INPUTS] = {0};
    json_t *jout = NULL;
    char(*fnames)[200] = NULL;
    if (optind + 1 != argc) {
        status = cli_usage(cmd, optind >= argc ? "MODEL is missing" : "one MODEL only");
        goto out;
    }
    const char *model = argv[optind], *file = model;
    char cid_file[4096];
    int is_cid;
    struct stat st;
    if ((status = cli_model_path(cmd, model, cid_file, sizeof cid_file, &is_cid)) != CLI_OK)
        goto out;
    status = CLI_FAILED;
    if (is_cid) {
        file = cid_file;
    } else if (stat(model, &st) != 0) {
        status = cli_fail(cmd, "%s: %s", model, strerror(errno));
        goto out;
    }
    if (ia_onnx_load(file, &m) != IA_OK) {
        status = cli_fail_lib(cmd);
        goto out;
    }
    struct ia_session_opts so = {.threads = threads};
    if (ia_session_create(m, &so, &s) != IA_OK) {
        status = cli_fail(cmd, "%s: %s", model, ia_error_msg());
        goto out;
    }
    for (size_t i = 0; i < n_in; i++) {
        size_t k = 0;
        for (; k < ia_session_n_inputs(s); k++)
            if (!strcmp(ia_session_input(s, k)->name, in_names[i])) break;
        if (k == ia_session_n_inputs(s)) {
            char list[1024];
            size_t len = 0;
            list[0] = '\0';
            for (size_t j = 0; j < ia_session_n_inputs(s) && len < sizeof list - 1; j++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "",
                                        ia_session_input(s, j)->name);
            status = cli_fail(cmd, "the model has no input '%s' (its inputs: %s)", in_names[i],
                              len ? list : "none");
            goto out;
        }
        /* A .pb may hold a SequenceProto or OptionalProto: the model says which. */
        if (ia_tensor_io_read_value(in_files[i], ia_session_input(s, k)->type, &tensors[i]) !=
            IA_OK) {
            status = cli_fail(cmd, "input '%s': %s", in_names[i], ia_error_msg());
            goto out;
        }
    }
    for (size_t k = 0; k < ia_session_n_inputs(s); k++) {
        const struct ia_session_value *v = ia_session_input(s, k);
        int given = 0;
        for (size_t i = 0; i < n_in; i++) given |= !strcmp(v->name, in_names[i]);
        if (!given && !v->optional) {
            status =
                cli_fail(cmd, "input '%s' is missing (give it with -i %s=FILE)", v->name, v->name);
            goto out;
        }
    }
    size_t n_out = ia_session_n_outputs(s);
    struct ia_tensor *const *outs;
    if (ia_session_run(s, n_in, in_names, (const struct ia_tensor *const *)tensors, n_out, &outs) !=
        IA_OK) {
        status = cli_fail_lib(cmd);
        goto out;
    }
    struct ia_session_stats stats;
    ia_session_get_stats(s, &stats);
    if (mkdir_p(out_dir) != 0) {
        status = cli_fail(cmd, "%s: cannot create the output folder: %s", out_dir, strerror(errno));
        goto out;
    }
    fnames = calloc(n_out ? n_out : 1, sizeof *fnames);
    if (!fnames) {
        status = cli_fail(cmd, "out of memory");
        goto out;
    }
    if (json) jout = json_array();
    for (size_t i = 0; i < n_out; i++) {
        const char *name = ia_session_output(s, i)->name;
        char fname[200], path[4400], shape[256];
        safe_name(name, fnames, i, fname, sizeof fname);
        snprintf(fnames[i], sizeof fnames[i], "%s", fname);
        snprintf(path, sizeof path, "%s/%s.%s", out_dir, fname, npy ? "npy" : "pb");
        if (ia_tensor_io_write(path, npy ? IA_TENSOR_FORMAT_NPY : IA_TENSOR_FORMAT_PB, outs[i],
                               name) != IA_OK) {
            status = cli_fail(cmd, "output '%s': %s", name, ia_error_msg());
            goto out;
        }
        shape_text(outs[i], shape, sizeof shape);
        if (json) {
            json_t *o = json_object(), *dims = json_array();
            for (int d = 0; d < outs[i]->rank; d++)
                json_array_append_new(dims, json_integer(outs[i]->dims[d]));
            json_object_set_new(o, "name", jstr(name));
            json_object_set_new(o, "dtype", json_string(ia_dtype_name(outs[i]->dtype)));
            json_object_set_new(o, "shape", dims);
            json_object_set_new(o, "file", jstr(path));
            json_array_append_new(jout, o);
        } else {
            printf("%-24s %-9s %-20s -> %s\n", name, ia_dtype_name(outs[i]->dtype), shape, path);
        }
    }
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "model", jstr(model));
        json_object_set_new(root, "outputs", jout);
        jout = NULL;
        json_object_set_new(root, "run_ms", json_real(stats.last_run_s * 1e3));
        json_object_set_new(root, "create_ms", json_real(stats.create_s * 1e3));
        json_object_set_new(root, "threads", json_integer(stats.threads));
        json_object_set_new(root, "nodes", json_integer((json_int_t)stats.n_nodes));
        json_object_set_new(root, "folded_nodes", json_integer((json_int_t)stats.n_folded));
        json_object_set_new(root, "arena_bytes", json_integer((json_int_t)stats.arena_bytes));
        char *text = json_dumps(root, JSON_INDENT(2));
        if (text) puts(text);
        free(text);
        json_decref(root);
    } else {
        printf("ran %zu nodes (%zu folded at load) in %.3f ms on %d thread%s; arena %llu bytes\n",
               stats.n_nodes - stats.n_folded, stats.n_folded, stats.last_run_s * 1e3,
               stats.threads, stats.threads == 1 ? "" : "s", (unsigned long long)stats.arena_bytes);
    }
    status = CLI_OK;
out:
    json_decref(jout);
    free(fnames);
    for (size_t i = 0; i < n_in; i++) {
        ia_tensor_io_free(tensors[i]);
        free(in_specs[i]);
    }
    ia_session_destroy(s);
    ia_model_free(m);
    return status;
}

const struct ia_cli_command ia_cli_cmd_run = {"run", "run an ONNX model on the CPU", usage, run};
