/* ipfs-accelerate zoo list | zoo build ARCH ... | zoo inputs MODEL -o DIR:
 * the architecture zoo (src/zoo) on the command line. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/onnx.h"
#include "ia/tensor_io.h"
#include "ia/zoo.h"

extern const struct ia_cli_command ia_cli_cmd_zoo;

static const char usage[] =
    "Usage: ipfs-accelerate zoo list [--json]\n"
    "       ipfs-accelerate zoo build ARCH[-PRESET] [--preset tiny|small|base]\n"
    "                             [--set KEY=VALUE ...] [--with-past] [--seed N]\n"
    "                             [--external-data] -o FILE.onnx [--json]\n"
    "       ipfs-accelerate zoo inputs MODEL.onnx -o DIR [--batch N] [--seq N]\n"
    "                             [--past N] [--npy]\n"
    "\n"
    "list    the model families, which are built, and their presets with\n"
    "        parameter counts (computed from the configs)\n"
    "build   writes ARCH as ONNX (opset 17) with seeded random weights\n"
    "        (metadata weights=synthetic). A preset is an HF config.json;\n"
    "        --set changes one of its keys (VALUE is JSON, else a string),\n"
    "        e.g. --set num_hidden_layers=4 --set architectures='[\"BertForMaskedLM\"]'.\n"
    "        Weights over 2 GiB go to FILE.onnx.data next to the model\n"
    "        (--external-data forces that); the disk (or memory) must hold them.\n"
    "inputs  writes sample inputs for a zoo model (token ids, masks, positions,\n"
    "        empty KV cache, pixel values) as DIR/<input>.pb (or .npy), ready for\n"
    "        `ipfs-accelerate run MODEL -i NAME=FILE`\n"
    "\n"
    "Options:\n"
    "  --preset NAME       tiny (default), small or base\n"
    "  --set KEY=VALUE     override an HF config key (repeat)\n"
    "  --with-past         decoders: past_key_values.N.* inputs, present.N.* outputs\n"
    "  --seed N            seed of the synthetic weights (default 0)\n"
    "  --external-data     weights in FILE.onnx.data whatever their size\n"
    "  -o, --output PATH   the model file (build) or folder (inputs)\n"
    "  --batch N, --seq N, --past N   sample input sizes (1, 8, 0)\n"
    "  --npy               inputs as .npy instead of .pb\n"
    "  --json              print the result as JSON\n"
    "  -h, --help          show this help\n"
    "\n"
    "Exit status: 0 ok; 1 the build failed (reason on stderr); 2 usage error.\n";

static int preset_size(const struct ia_zoo_arch *a, const char *preset, uint64_t *params) {
    struct ia_hf_config *cfg;
    int rc = ia_zoo_preset_config(a, preset, &cfg);
    struct ia_zb_opts zo = {.dry_run = 1};
    struct ia_zb *g = NULL;
    if (!rc) rc = ia_zb_create(&zo, &g);
    struct ia_zoo_build_opts bo = {0};
    if (!rc) rc = a->build(g, cfg, &bo);
    if (!rc) *params = ia_zb_n_params(g);
    ia_zb_destroy(g);
    ia_hf_config_free(cfg);
    return rc;
}

static int do_list(int json) {
    json_t *arr = json ? json_array() : NULL;
    if (!json) printf("%-11s %-6s %-8s %15s %11s  %s\n", "family", "status", "preset", "params",
                      "fp32", "like");
    for (size_t i = 0; i < ia_zoo_n_archs(); i++) {
        const struct ia_zoo_arch *a = ia_zoo_arch_at(i);
        json_t *ja = json ? json_pack("{s:s, s:s, s:b, s:[]}", "name", a->name, "summary",
                                      a->summary, "implemented", a->implemented, "presets")
                          : NULL;
        if (!a->implemented && !json)
            printf("%-11s %-6s %-8s %15s %11s  %s\n", a->name, "todo", "-", "-", "-", a->summary);
        for (size_t p = 0; p < a->n_presets; p++) {
            uint64_t params = 0;
            if (preset_size(a, a->presets[p].name, &params))
                return cli_fail("zoo", "preset %s-%s: %s", a->name, a->presets[p].name,
                                ia_error_msg());
            if (json)
                json_array_append_new(json_object_get(ja, "presets"),
                                      json_pack("{s:s, s:s, s:I, s:I}", "name",
                                                a->presets[p].name, "like", a->presets[p].like,
                                                "params", (json_int_t)params, "fp32_bytes",
                                                (json_int_t)(params * 4)));
            else
                printf("%-11s %-6s %-8s %15llu %8.1f MiB  %s\n", p ? "" : a->name,
                       p ? "" : "built", a->presets[p].name, (unsigned long long)params,
                       params * 4 / 1048576.0,
                       *a->presets[p].like ? a->presets[p].like : "(test size)");
        }
        if (json) json_array_append_new(arr, ja);
    }
    if (json) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    }
    return CLI_OK;
}

#define MAX_SETS 128

static int do_build(int argc, char **argv) {
    static const struct option opts[] = {{"preset", required_argument, NULL, 'p'},
                                         {"set", required_argument, NULL, 's'},
                                         {"with-past", no_argument, NULL, 'w'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"external-data", no_argument, NULL, 'e'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"json", no_argument, NULL, 'j'},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *preset = NULL, *out = NULL, *sets[MAX_SETS];
    size_t n_sets = 0;
    int with_past = 0, external = 0, json = 0, c;
    uint64_t seed = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 's':
            if (n_sets == MAX_SETS) return cli_usage("zoo", "too many --set options");
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return cli_usage("zoo", "--set wants KEY=VALUE, got '%s'", optarg);
            sets[n_sets++] = optarg;
            break;
        case 'w': with_past = 1; break;
        case 'e': external = 1; break;
        case 'j': json = 1; break;
        case 'o': out = optarg; break;
        case 'S': {
            char *end;
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (errno || *end || !*optarg) return cli_usage("zoo", "bad --seed '%s'", optarg);
            break;
        }
        default: {
            int r = cli_common_opt(&ia_cli_cmd_zoo, c, argv);
            if (r >= 0) return r;
        }
        }
    }
    if (optind + 1 != argc)
        return cli_usage("zoo", optind >= argc ? "build needs an ARCH" : "build takes one ARCH");
    if (!out) return cli_usage("zoo", "build needs -o FILE.onnx");
    char name[64];
    snprintf(name, sizeof name, "%s", argv[optind]);
    const struct ia_zoo_arch *a = ia_zoo_arch_find(name);
    char *dash = strrchr(name, '-');
    if (!a && dash && !preset) { /* "bert-tiny" */
        *dash = 0;
        a = ia_zoo_arch_find(name);
        preset = dash + 1;
    }
    if (!a) return cli_usage("zoo", "unknown ARCH '%s' (see `zoo list`)", argv[optind]);
    if (!a->implemented)
        return cli_fail("zoo", "%s is a benchmark family the zoo does not build yet", a->name);
    if (!preset) preset = "tiny";
    struct ia_hf_config *cfg;
    if (ia_zoo_preset_config(a, preset, &cfg)) {
        int rc = ia_error_msg()[0] && strstr(ia_error_msg(), "no preset") ? CLI_USAGE : CLI_FAILED;
        if (rc == CLI_USAGE) return cli_usage("zoo", "%s", ia_error_msg());
        return cli_fail_lib("zoo");
    }
    for (size_t i = 0; i < n_sets; i++) {
        char key[256];
        const char *eq = strchr(sets[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (ia_hf_config_set(cfg, key, eq + 1)) {
            ia_hf_config_free(cfg);
            return cli_fail_lib("zoo");
        }
    }
    struct ia_progress prog;
    ia_progress_start(&prog, "weights", 1, cli_globals.quiet || json);
    struct ia_zoo_opts zo = {.preset = preset, .seed = seed, .build = {.with_past = with_past},
                             .external_threshold = external ? 1 : 0,
                             .progress = ia_progress_update, .progress_user = &prog};
    struct ia_zoo_result res;
    int rc = ia_zoo_build(a, cfg, &zo, out, &res);
    ia_progress_finish(&prog);
    ia_hf_config_free(cfg);
    if (rc) return cli_fail_lib("zoo");
    if (json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:b, s:s?, s:s}", "arch", a->name,
                              "preset", preset, "path", out, "n_params",
                              (json_int_t)res.n_params, "weight_bytes",
                              (json_int_t)res.weight_bytes, "external", res.external,
                              "data_file", res.external ? res.data_file : NULL, "weights",
                              "synthetic");
        json_dumpf(j, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(j);
    } else if (!cli_globals.quiet) {
        printf("built %s-%s → %s: %llu parameters, %.1f MiB of synthetic weights%s%s\n", a->name,
               preset, out, (unsigned long long)res.n_params, res.weight_bytes / 1048576.0,
               res.external ? " in " : "", res.external ? res.data_file : "");
    }
    return CLI_OK;
}

static int do_inputs(int argc, char **argv) {
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"seq", required_argument, NULL, 's'},
                                         {"past", required_argument, NULL, 'p'},
                                         {"npy", no_argument, NULL, 'n'},
                                         CLI_HELP_OPTION,
                                         {NULL, 0, NULL, 0}};
    const char *out = NULL;
    struct ia_zoo_sample_opts so = {0};
    int npy = 0, c;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        int64_t *dst = c == 'b' ? &so.batch : c == 's' ? &so.seq : c == 'p' ? &so.past : NULL;
        if (dst) {
            char *end;
            long long v = strtoll(optarg, &end, 10);
            if (*end || !*optarg || v < (c == 'p' ? 0 : 1) || v > 1 << 20)
                return cli_usage("zoo", "bad value '%s' for --%s", optarg,
                                 c == 'b' ? "batch" : c == 's' ? "seq" : "past");
            *dst = v;
            continue;
        }
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': npy = 1; break;
        default: {
            int r = cli_common_opt(&ia_cli_cmd_zoo, c, argv);
            if (r >= 0) return r;
        }
        }
    }
    if (optind + 1 != argc) return cli_usage("zoo", "inputs takes one MODEL");
    if (!out) return cli_usage("zoo", "inputs needs -o DIR");
    if (mkdir(out, 0755) != 0 && errno != EEXIST)
        return cli_fail("zoo", "%s: %s", out, strerror(errno));
    struct ia_model *m;
    if (ia_onnx_load(argv[optind], &m)) return cli_fail_lib("zoo");
    struct ia_tensor **ts;
    size_t n;
    int rc = ia_zoo_sample_inputs(m, &so, &ts, &n);
    ia_model_free(m);
    if (rc) return cli_fail_lib("zoo");
    for (size_t i = 0; i < n && rc == IA_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.%s", out, ts[i]->name, npy ? "npy" : "pb");
        rc = ia_tensor_io_write(path, npy ? IA_TENSOR_FORMAT_NPY : IA_TENSOR_FORMAT_PB, ts[i],
                                ts[i]->name);
        if (rc == IA_OK && !cli_globals.quiet) printf("%s=%s\n", ts[i]->name, path);
    }
    for (size_t i = 0; i < n; i++) ia_tensor_io_free(ts[i]);
    ia_free(ts);
    return rc ? cli_fail_lib("zoo") : CLI_OK;
}

static int run(int argc, char **argv) {
    if (argc < 2) return cli_usage("zoo", "needs a subcommand: list, build or inputs");
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) return cli_help(&ia_cli_cmd_zoo);
    if (!strcmp(sub, "list")) {
        int json = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--json")) json = 1;
            else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
                return cli_help(&ia_cli_cmd_zoo);
            else return cli_usage("zoo", "list: unexpected argument '%s'", argv[i]);
        }
        return do_list(json);
    }
    if (!strcmp(sub, "build")) return do_build(argc - 1, argv + 1);
    if (!strcmp(sub, "inputs")) return do_inputs(argc - 1, argv + 1);
    return cli_usage("zoo", "unknown subcommand '%s' (list, build, inputs)", sub);
}

const struct ia_cli_command ia_cli_cmd_zoo = {"zoo", "model architectures as ONNX (list, build)",
                                              usage, run};
