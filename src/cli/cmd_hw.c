/* ipfs-accelerate hw [--json]: what this machine is, as the library sees it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ia/core.h"
#include "ia/hw.h"

static int run(int argc, char **argv);

const struct ia_cli_command ia_cli_cmd_hw = {
    .name = "hw",
    .summary = "show CPU, caches, memory, GPUs and the hardware fingerprint",
    .usage = "Usage: ipfs-accelerate hw [--json]\n"
             "\n"
             "Detects the CPU (model, cores, ISA features), caches, memory, NUMA nodes,\n"
             "NVIDIA GPUs (through the driver's NVML library, if installed) and browsers\n"
             "on $PATH, and prints the hardware fingerprint that benchmark results are\n"
             "filed under.\n"
             "\n"
             "Options:\n"
             "  --json      print one JSON document (schema: include/ia/hw.h)\n"
             "  -h, --help  show this help\n",
    .run = run,
};

/* "32 KiB", "35.75 MiB": binary units, up to two decimals, exact when whole. */
static const char *human_bytes(uint64_t n, char *buf, size_t cap) {
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double v = (double)n;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    if (u == 0 || v == (double)(uint64_t)v)
        snprintf(buf, cap, "%llu %s", (unsigned long long)v, units[u]);
    else
        snprintf(buf, cap, "%.2f %s", v, units[u]);
    return buf;
}

#define ROW "  %-16s "

static void print_features(const struct ia_hw_info *hw) {
    printf("Features\n");
    /* Four "name yes|no" cells a row, names aligned in columns. */
    int native[IA_HW_FEATURE_COUNT], n = 0;
    for (int f = 0; f < IA_HW_FEATURE_COUNT; f++)
        if (ia_hw_feature_native(f)) native[n++] = f;
    int col = 0;
    for (int i = 0; i < n; i++) {
        int last_in_row = col == 3 || i == n - 1;
        printf("%s%-12s %s", col ? " " : "  ", ia_hw_feature_name(native[i]),
               hw->features[native[i]] ? "yes"
               : last_in_row           ? "no"
                                       : "no ");
        if (++col == 4) {
            printf("\n");
            col = 0;
        }
    }
    if (col) printf("\n");
}

static void print_gpus(const struct ia_hw_info *hw) {
    char b[64];
    printf("GPUs\n");
    if (hw->n_gpus == 0) {
        const char *why = hw->gpu_status == IA_HW_GPU_NO_LIBRARY ? "no NVIDIA driver library"
                          : hw->gpu_status == IA_HW_GPU_INIT_FAILED
                              ? "NVIDIA driver library present, but NVML did not start"
                              : "the NVIDIA driver reports no device";
        printf("  none detected (%s)\n", why);
        return;
    }
    printf(ROW "%s\n", "NVIDIA driver", hw->gpu_driver_version[0] ? hw->gpu_driver_version : "?");
    for (int g = 0; g < hw->n_gpus; g++) {
        const struct ia_hw_gpu *gpu = &hw->gpus[g];
        char label[32], cc[32] = "compute capability unknown";
        snprintf(label, sizeof label, "GPU %d", g);
        if (gpu->cc_major >= 0)
            snprintf(cc, sizeof cc, "compute %d.%d", gpu->cc_major, gpu->cc_minor);
        printf(ROW "%s, %s, %s\n", label, gpu->name, human_bytes(gpu->memory_bytes, b, sizeof b),
               cc);
    }
}

static void print_report(const struct ia_hw_info *hw) {
    char b[64];
    printf("CPU\n");
    printf(ROW "%s\n", "Vendor", hw->vendor);
    printf(ROW "%s\n", "Model", hw->model);
    printf(ROW "%s\n", "Microarch", hw->uarch[0] ? hw->uarch : "unknown");
    printf(ROW "%s\n", "Architecture", hw->arch);
    printf(ROW "%d physical, %d logical\n", "Cores", hw->physical_cores, hw->logical_cpus);
    print_features(hw);
    printf("Caches\n");
    static const char *const labels[IA_HW_CACHE_COUNT] = {"L1d", "L1i", "L2", "L3"};
    for (int c = 0; c < IA_HW_CACHE_COUNT; c++) {
        if (!hw->caches[c].count) {
            printf(ROW "unknown\n", labels[c]);
            continue;
        }
        printf(ROW "%s x %u\n", labels[c], human_bytes(hw->caches[c].size_bytes, b, sizeof b),
               hw->caches[c].count);
    }
    printf("Memory\n");
    printf(ROW "%s (%llu bytes)\n", "Total", human_bytes(hw->total_memory_bytes, b, sizeof b),
           (unsigned long long)hw->total_memory_bytes);
    /* Say so when the two sources disagree (lazily initialised VM memory). */
    uint64_t lo =
        hw->hwloc_memory_bytes < hw->os_memory_bytes ? hw->hwloc_memory_bytes : hw->os_memory_bytes;
    if (hw->total_memory_bytes - lo > hw->total_memory_bytes / 100) {
        char b2[64];
        printf(ROW "hwloc %s, kernel %s\n", "Sources",
               human_bytes(hw->hwloc_memory_bytes, b, sizeof b),
               human_bytes(hw->os_memory_bytes, b2, sizeof b2));
    }
    printf(ROW "%d\n", "NUMA nodes", hw->numa_nodes);
    print_gpus(hw);
    printf("Browsers\n");
    printf(ROW "%s\n", "chromium", hw->chromium_path[0] ? hw->chromium_path : "absent");
    printf(ROW "%s\n", "chromedriver", hw->chromedriver_path[0] ? hw->chromedriver_path : "absent");
    printf("Fingerprint\n");
    printf(ROW "%s\n", "Short id", hw->fingerprint_short);
    printf(ROW "%s\n", "SHA-256", hw->fingerprint);
}

static int run(int argc, char **argv) {
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        int rc = cli_common_opt(&ia_cli_cmd_hw, c, argv);
        if (rc >= 0) return rc;
        if (c == 'j') json = 1;
    }
    if (optind < argc) return cli_usage("hw", "unexpected argument '%s'", argv[optind]);

    struct ia_hw_info hw;
    if (ia_hw_detect(&hw) != IA_OK) return cli_fail_lib("hw");
    if (!json) {
        print_report(&hw);
        return fflush(stdout) == 0 ? CLI_OK : cli_fail("hw", "cannot write the report");
    }
    json_t *doc;
    if (ia_hw_to_json(&hw, &doc) != IA_OK) return cli_fail_lib("hw");
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return cli_fail("hw", "cannot write the JSON document");
    return CLI_OK;
}
