/* ipfs-accelerate convert HF_DIR -o FILE.onnx: a Hugging Face checkpoint
 * (config.json + safetensors) to ONNX, verified and self-checked with the
 * engine, cached in the store. The zoo does the work; this file hands it
 * the engine's checks (the zoo sits above the engine). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/engine.h"
#include "ia/onnx.h"
#include "ia/store.h"
#include "ia/tensor_io.h"
#include "ia/zoo.h"

extern const struct ia_cli_command ia_cli_cmd_convert;

static const char usage[] =
    "Usage: ipfs-accelerate convert HF_DIR -o FILE.onnx [--with-past] [--external-data]\n"
    "                               [--no-cache] [--json]\n"
    "\n"
    "Converts a Hugging Face checkpoint folder (config.json and model.safetensors,\n"
    "or shards listed in model.safetensors.index.json) to ONNX opset 17. The\n"
    "builder is picked from model_type (bert, gpt2, llama, qwen2, vit); tensors\n"
    "are mapped by their HF names and checked against the config's shapes.\n"
    "pytorch_model.bin (pickle) checkpoints are not read.\n"
    "\n"
    "The result is verified and run once on a small input (outputs must be\n"
    "finite), then stored in $IA_HOME under the checkpoint's CID (the folder\n"
    "hashed as `add -r --only-hash` does), the converter version and the\n"
    "options: converting the same checkpoint again copies the stored model.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE   the .onnx to write (weights over 2 GiB go to FILE.data)\n"
    "  --with-past         decoders: KV-cache inputs and outputs\n"
    "  --external-data     weights in FILE.data whatever their size\n"
    "  --no-cache          neither read nor fill the store's cache\n"
    "  --json              print the result as JSON\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 converted (or cached); 1 failed (the message names the config\n"
    "key or tensor at fault); 2 usage error.\n";

/* verify + one run on sample inputs with finite outputs. */
static int self_check(void *user, const char *path) {
    (void)user;
    struct ia_verify_report rep;
    struct ia_model *m = NULL;
    int rc = ia_onnx_verify_file(path, ia_engine_verify_opts(), &rep, &m);
    if (rc) return rc;
    if (!rep.ok) {
        const char *why = "verify failed";
        for (int i = 0; i < IA_VERIFY_CHECK_COUNT; i++)
            if (rep.checks[i].status == IA_CHECK_FAIL && rep.checks[i].n_reasons) {
                rc = ia_error_set(IA_EFORMAT, "verify: %s: %s", rep.checks[i].name,
                                  rep.checks[i].reasons[0]);
                break;
            }
        if (!rc) rc = ia_error_set(IA_EFORMAT, "%s", why);
        ia_verify_report_free(&rep);
        ia_model_free(m);
        return rc;
    }
    ia_verify_report_free(&rep);
    struct ia_session *s = NULL;
    struct ia_tensor **in = NULL;
    size_t n_in = 0;
    struct ia_zoo_sample_opts so = {.batch = 1, .seq = 4};
    rc = ia_zoo_sample_inputs(m, &so, &in, &n_in);
    if (!rc) rc = ia_session_create(m, NULL, &s);
    const char *names[512];
    if (!rc && n_in > 512) rc = ia_error_set(IA_ERANGE, "too many inputs");
    for (size_t i = 0; !rc && i < n_in; i++) names[i] = in[i]->name;
    struct ia_tensor *const *outs = NULL;
    size_t n_out = s ? ia_session_n_outputs(s) : 0;
    if (!rc)
        rc = ia_session_run(s, n_in, names, (const struct ia_tensor *const *)in, n_out, &outs);
    for (size_t o = 0; !rc && o < n_out; o++) {
        const struct ia_tensor *t = outs[o];
        if (t->dtype != IA_DTYPE_FLOAT32) continue;
        const float *f = t->data;
        for (uint64_t e = 0; e < t->numel; e++)
            if (!isfinite(f[e])) {
                rc = ia_error_set(IA_ECORRUPT, "output '%s' element %llu is not finite (%g)",
                                  ia_session_output(s, o)->name, (unsigned long long)e, f[e]);
                break;
            }
    }
    ia_session_destroy(s);
    for (size_t i = 0; i < n_in; i++) ia_tensor_io_free(in[i]);
    ia_free(in);
    ia_model_free(m);
    return rc;
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"with-past", no_argument, NULL, 'w'},
                                         {"external-data", no_argument, NULL, 'e'},
                                         {"no-cache", no_argument, NULL, 'n'},
                                         {"json", no_argument, NULL, 'j'},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int with_past = 0, external = 0, no_cache = 0, json = 0, c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'w': with_past = 1; break;
        case 'e': external = 1; break;
        case 'n': no_cache = 1; break;
        case 'j': json = 1; break;
        default: {
            int r = cli_common_opt(&ia_cli_cmd_convert, c, argv);
            if (r >= 0) return r;
        }
        }
    }
    if (optind + 1 != argc)
        return cli_usage("convert", optind >= argc ? "needs HF_DIR" : "takes one HF_DIR");
    if (!out) return cli_usage("convert", "needs -o FILE.onnx");
    const char *dir = argv[optind];
    struct ia_store *store = NULL;
    if (!no_cache && ia_store_open(NULL, &store)) return cli_fail_lib("convert");
    struct ia_progress prog;
    ia_progress_start(&prog, "weights", 1, cli_globals.quiet || json);
    struct ia_zoo_convert_opts o = {.store = store, .build = {.with_past = with_past},
                                    .external_threshold = external ? 1 : 0,
                                    .check = self_check, .progress = ia_progress_update,
                                    .progress_user = &prog};
    struct ia_zoo_convert_result r;
    int rc = ia_zoo_convert(dir, out, &o, &r);
    ia_progress_finish(&prog);
    ia_store_close(store);
    if (rc) return cli_fail_lib("convert");
    if (json) {
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:b, s:s?, s:s?, s:I, s:I, s:s?, s:s}",
            "source", dir, "path", out, "arch", r.arch, "architecture", r.architecture,
            "source_cid", r.source_cid, "cached", r.cached, "n_params",
            (json_int_t)r.build.n_params, "weight_bytes", (json_int_t)r.build.weight_bytes,
            "external", r.build.external, "data_file",
            r.build.external ? r.build.data_file : NULL, "model_cid",
            r.model_cid[0] ? r.model_cid : NULL, "checkpoint_tensors",
            (json_int_t)r.n_ckpt_tensors, "unused_tensors", (json_int_t)r.n_unused,
            "first_unused", r.first_unused[0] ? r.first_unused : NULL, "converter_version",
            IA_ZOO_CONVERTER_VERSION);
        json_dumpf(j, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(j);
        return CLI_OK;
    }
    if (r.n_unused && !cli_globals.quiet)
        fprintf(stderr, "ipfs-accelerate: convert: warning: %zu checkpoint tensor(s) not used "
                        "by the model (first: %s)\n", r.n_unused, r.first_unused);
    if (!cli_globals.quiet) {
        if (r.cached)
            printf("cached: %s was converted before (source %s, converter %s); copied %s from "
                   "the store\n", dir, r.source_cid, IA_ZOO_CONVERTER_VERSION, out);
        else
            printf("converted %s (%s, %s) → %s: %llu parameters, %.1f MiB%s%s; verify and "
                   "self-check ok\n", dir, r.arch, r.architecture[0] ? r.architecture : "-", out,
                   (unsigned long long)r.build.n_params, r.build.weight_bytes / 1048576.0,
                   r.build.external ? ", weights in " : "",
                   r.build.external ? r.build.data_file : "");
        printf("source CID %s%s%s\n", r.source_cid, r.model_cid[0] ? ", model CID " : "",
               r.model_cid);
    }
    return CLI_OK;
}

const struct ia_cli_command ia_cli_cmd_convert = {
    "convert", "Hugging Face checkpoint (safetensors) to ONNX", usage, run};
