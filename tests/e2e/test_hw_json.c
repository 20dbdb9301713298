/* `ipfs-accelerate hw --json` end to end: runs the real binary ($IA_CLI),
 * checks the document field by field (types and ranges), and cross-checks
 * it against what the kernel says in /proc (reading /proc is fine here:
 * the test is the independent witness the library must agree with). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "check.h"

static json_t *doc;    /* the parsed `hw --json` output */
static char *text_out; /* the human report (`hw`) */

/* Runs `$IA_CLI args` and returns its stdout (malloc'd) or NULL. */
static char *run_cli(const char *args, int *status) {
    const char *cli = getenv("IA_CLI");
    if (!cli) return NULL;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' %s", cli, args);
    FILE *p = popen(cmd, "r");
    if (!p) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    *status = pclose(p);
    if (buf) buf[len] = '\0';
    return buf;
}

static json_t *get(const json_t *obj, const char *key) { return json_object_get(obj, key); }

static int is_int_in(const json_t *v, long long lo, long long hi) {
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static int is_hex(const char *s, size_t n) {
    if (!s || strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return 1;
}

/* ---- /proc/cpuinfo ------------------------------------------------------ */

struct proc_cpu {
    int processors;
    int cores; /* sum of "cpu cores" over distinct "physical id"; 0 if absent */
    char flags[8192];
};

static int read_proc_cpuinfo(struct proc_cpu *pc) {
    memset(pc, 0, sizeof *pc);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return -1;
    char line[8192];
    int phys_seen[256] = {0}, phys = -1;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "processor", 9) && colon) pc->processors++;
        if (!strncmp(line, "physical id", 11) && colon) phys = atoi(colon + 1);
        if (!strncmp(line, "cpu cores", 9) && colon && phys >= 0 && phys < 256 &&
            !phys_seen[phys]) {
            phys_seen[phys] = 1;
            pc->cores += atoi(colon + 1);
        }
        if (!strncmp(line, "flags", 5) && colon && !pc->flags[0])
            snprintf(pc->flags, sizeof pc->flags, " %s", colon + 1);
    }
    fclose(f);
    char *nl = strchr(pc->flags, '\n');
    if (nl) *nl = ' ';
    return 0;
}

static int has_flag(const struct proc_cpu *pc, const char *flag) {
    char word[64];
    snprintf(word, sizeof word, " %s ", flag);
    return strstr(pc->flags, word) != NULL;
}

static long long proc_memtotal_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %lld kB", &kb) == 1) break;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* ---- tests -------------------------------------------------------------- */

static void test_runs_and_parses(void) {
    REQUIRE(doc != NULL);
    CHECK(json_is_object(doc));
    REQUIRE(text_out != NULL);
}

static void test_cpu(void) {
    REQUIRE(doc != NULL);
    json_t *cpu = get(doc, "cpu");
    REQUIRE(json_is_object(cpu));
    static const char *const strings[] = {"arch", "vendor", "model"};
    for (size_t i = 0; i < 3; i++) {
        json_t *s = get(cpu, strings[i]);
        CHECK(json_is_string(s) && json_string_length(s) > 0 && json_string_length(s) < 128);
    }
    CHECK(json_is_string(get(cpu, "uarch")) || json_is_null(get(cpu, "uarch")));
    json_t *phys = get(cpu, "physical_cores"), *logical = get(cpu, "logical_cpus");
    CHECK(is_int_in(phys, 1, 1 << 16));
    CHECK(is_int_in(logical, 1, 1 << 16));
    CHECK(json_integer_value(logical) >= json_integer_value(phys));

    json_t *features = get(cpu, "features");
    REQUIRE(json_is_object(features));
    static const char *const all[] = {
        "sse4_2",   "avx",      "avx2",        "fma3",        "f16c",     "avx512f",
        "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_bf16",
        "amx_int8", "amx_tile", "neon",        "sve",         "dotprod"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!json_is_boolean(get(features, all[i]))) {
            fprintf(stderr, "feature %s missing or not a boolean\n", all[i]);
            CHECK(0);
        }
    }
    CHECK_EQ_INT(json_object_size(features), sizeof all / sizeof all[0]);
}

static void test_caches_memory_numa(void) {
    REQUIRE(doc != NULL);
    long long logical = json_integer_value(get(get(doc, "cpu"), "logical_cpus"));
    json_t *caches = get(doc, "caches");
    REQUIRE(json_is_object(caches));
    static const char *const levels[] = {"l1d", "l1i", "l2", "l3"};
    for (size_t i = 0; i < 4; i++) {
        json_t *c = get(caches, levels[i]);
        REQUIRE(json_is_object(c));
        json_t *size = get(c, "size_bytes"), *count = get(c, "count");
        CHECK(is_int_in(size, 0, 1LL << 32));
        CHECK(is_int_in(count, 0, logical));
        CHECK((json_integer_value(size) == 0) == (json_integer_value(count) == 0));
        if (json_integer_value(size)) CHECK(json_integer_value(size) >= 1024);
    }
    json_t *mem = get(doc, "memory");
    REQUIRE(json_is_object(mem));
    json_t *total = get(mem, "total_bytes");
    CHECK(is_int_in(total, 64LL << 20, 1LL << 52));
    CHECK(is_int_in(get(mem, "hwloc_bytes"), 0, json_integer_value(total)));
    CHECK(is_int_in(get(mem, "os_bytes"), 0, json_integer_value(total)));
    /* The kernel's MemTotal is the same figure as sysinfo's total RAM. */
    long long memtotal = proc_memtotal_bytes();
    if (memtotal > 0) {
        long long t = json_integer_value(total), diff = t > memtotal ? t - memtotal : memtotal - t;
        if (diff > memtotal / 50) {
            fprintf(stderr, "memory: total_bytes %lld vs /proc/meminfo %lld\n", t, memtotal);
            CHECK(0);
        }
    }
    CHECK(is_int_in(get(doc, "numa_nodes"), 1, logical));
}

static void test_gpus_browsers_fingerprint(void) {
    REQUIRE(doc != NULL);
    json_t *gpus = get(doc, "gpus"), *driver = get(doc, "gpu_driver");
    REQUIRE(json_is_array(gpus));
    REQUIRE(json_is_object(driver));
    const char *status = json_string_value(get(driver, "status"));
    REQUIRE(status != NULL);
    CHECK(!strcmp(status, "ok") || !strcmp(status, "no_library") || !strcmp(status, "init_failed"));
    if (strcmp(status, "ok") != 0) CHECK_EQ_INT(json_array_size(gpus), 0);
    CHECK(json_is_string(get(driver, "version")) || json_is_null(get(driver, "version")));
    size_t i;
    json_t *g;
    json_array_foreach(gpus, i, g) {
        CHECK(json_is_string(get(g, "vendor")));
        CHECK(json_is_string(get(g, "name")) && json_string_length(get(g, "name")) > 0);
        CHECK(is_int_in(get(g, "memory_bytes"), 0, 1LL << 50));
        json_t *cc = get(g, "compute_capability");
        int major, minor;
        CHECK(json_is_null(cc) ||
              (json_is_string(cc) && sscanf(json_string_value(cc), "%d.%d", &major, &minor) == 2));
    }

    json_t *browsers = get(doc, "browsers");
    REQUIRE(json_is_object(browsers));
    static const char *const names[] = {"chromium", "chromedriver"};
    for (int b = 0; b < 2; b++) {
        json_t *p = get(browsers, names[b]);
        CHECK(json_is_null(p) || (json_is_string(p) && json_string_value(p)[0] == '/'));
    }

    const char *fp = json_string_value(get(doc, "fingerprint"));
    const char *fp_short = json_string_value(get(doc, "fingerprint_short"));
    CHECK(is_hex(fp, 64));
    CHECK(is_hex(fp_short, 16));
    CHECK(fp && fp_short && !strncmp(fp, fp_short, 16));
    CHECK_EQ_STR(json_string_value(get(doc, "version")), "0.1.0");
    /* The human report shows the same fingerprint. */
    CHECK(fp && text_out && strstr(text_out, fp) != NULL);
}

static void test_stable_across_runs(void) {
    REQUIRE(doc != NULL);
    int status;
    char *again = run_cli("hw --json", &status);
    REQUIRE(again != NULL);
    json_t *doc2 = json_loads(again, 0, NULL);
    free(again);
    REQUIRE(doc2 != NULL);
    CHECK_EQ_STR(json_string_value(get(doc2, "fingerprint")),
                 json_string_value(get(doc, "fingerprint")));
    json_decref(doc2);
}

static void test_matches_proc_cpuinfo(void) {
    REQUIRE(doc != NULL);
    struct proc_cpu pc;
    REQUIRE(read_proc_cpuinfo(&pc) == 0);
    json_t *cpu = get(doc, "cpu");
    CHECK_EQ_INT(json_integer_value(get(cpu, "logical_cpus")), pc.processors);
    if (pc.cores > 0) CHECK_EQ_INT(json_integer_value(get(cpu, "physical_cores")), pc.cores);
    if (strcmp(json_string_value(get(cpu, "arch")), "x86_64") != 0) return;
    REQUIRE(pc.flags[0] != '\0');
    /* JSON key -> Linux flag name */
    static const char *const map[][2] = {
        {"sse4_2", "sse4_2"},
        {"avx", "avx"},
        {"avx2", "avx2"},
        {"fma3", "fma"},
        {"f16c", "f16c"},
        {"avx512f", "avx512f"},
        {"avx512bw", "avx512bw"},
        {"avx512vl", "avx512vl"},
        {"avx512_vnni", "avx512_vnni"},
        {"avx512_bf16", "avx512_bf16"},
        {"avx_vnni", "avx_vnni"},
        {"amx_bf16", "amx_bf16"},
        {"amx_int8", "amx_int8"},
        {"amx_tile", "amx_tile"},
    };
    json_t *features = get(cpu, "features");
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        int json_says = json_is_true(get(features, map[i][0]));
        int proc_says = has_flag(&pc, map[i][1]);
        if (json_says != proc_says) {
            fprintf(stderr, "feature %s: hw says %s, /proc/cpuinfo says %s\n", map[i][0],
                    json_says ? "yes" : "no", proc_says ? "yes" : "no");
            CHECK(0);
        }
    }
    /* Arm features cannot be present on x86. */
    CHECK(json_is_false(get(features, "neon")));
    CHECK(json_is_false(get(features, "sve")));
    CHECK(json_is_false(get(features, "dotprod")));
}

int main(void) {
    int status = -1;
    char *out = run_cli("hw --json", &status);
    if (!out || status != 0) {
        fprintf(stderr, "'$IA_CLI hw --json' failed (status %d)\n", status);
    } else {
        json_error_t err;
        doc = json_loads(out, 0, &err);
        if (!doc) fprintf(stderr, "hw --json: not JSON: %s (line %d)\n", err.text, err.line);
    }
    free(out);
    text_out = run_cli("hw", &status);
    if (status != 0) {
        free(text_out);
        text_out = NULL;
    }
    static const struct check_test tests[] = {
        T(test_runs_and_parses),    T(test_cpu),
        T(test_caches_memory_numa), T(test_gpus_browsers_fingerprint),
        T(test_stable_across_runs), T(test_matches_proc_cpuinfo),
    };
    int rc = check_run_all(tests, sizeof tests / sizeof tests[0]);
    json_decref(doc);
    free(text_out);
    return rc;
}
