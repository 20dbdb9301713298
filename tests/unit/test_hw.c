/* hw: detection on the machine the tests run on, fingerprint stability,
 * JSON both ways. Figures are checked for sanity, not for this machine's
 * values (tests/e2e/test_hw_json.c cross-checks against /proc). */
#include <ctype.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "ia/core.h"
#include "ia/hw.h"

static int is_hex(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) return 0;
    return 1;
}

static void test_detect(void) {
    struct ia_hw_info hw;
    int rc = ia_hw_detect(&hw);
    if (rc != IA_OK) fprintf(stderr, "ia_hw_detect: %s\n", ia_error_msg());
    REQUIRE(rc == IA_OK);
    CHECK(hw.physical_cores >= 1);
    CHECK(hw.logical_cpus >= hw.physical_cores);
    CHECK(hw.numa_nodes >= 1);
    CHECK(hw.total_memory_bytes >= (UINT64_C(64) << 20)); /* at least 64 MiB */
    CHECK(hw.total_memory_bytes >= hw.hwloc_memory_bytes);
    CHECK(hw.total_memory_bytes >= hw.os_memory_bytes);
    CHECK(hw.total_memory_bytes == hw.hwloc_memory_bytes ||
          hw.total_memory_bytes == hw.os_memory_bytes);
    CHECK(hw.arch[0] && hw.vendor[0] && hw.model[0]);
    CHECK(hw.n_gpus >= 0 && hw.n_gpus <= IA_HW_MAX_GPUS);
    if (hw.gpu_status != IA_HW_GPU_OK) CHECK_EQ_INT(hw.n_gpus, 0);
    for (int c = 0; c < IA_HW_CACHE_COUNT; c++)
        CHECK((hw.caches[c].count == 0) == (hw.caches[c].size_bytes == 0));
    CHECK(hw.caches[IA_HW_L1D].size_bytes >= 1024 || hw.caches[IA_HW_L1D].count == 0);
    for (int f = 0; f < IA_HW_FEATURE_COUNT; f++)
        if (!ia_hw_feature_native(f)) CHECK(!hw.features[f]);
#if defined(__x86_64__)
    CHECK_EQ_STR(hw.arch, "x86_64");
    /* implications the hardware guarantees */
    if (hw.features[IA_HW_AVX2]) CHECK(hw.features[IA_HW_AVX]);
    if (hw.features[IA_HW_AVX512BW]) CHECK(hw.features[IA_HW_AVX512F]);
    if (hw.features[IA_HW_AVX512_VNNI]) CHECK(hw.features[IA_HW_AVX512F]);
#endif
    if (hw.chromium_path[0]) CHECK(hw.chromium_path[0] == '/' || strchr(hw.chromium_path, '/'));
}

static void test_fingerprint_stable(void) {
    struct ia_hw_info a, b;
    REQUIRE(ia_hw_detect(&a) == IA_OK);
    REQUIRE(ia_hw_detect(&b) == IA_OK);
    CHECK(is_hex(a.fingerprint, 64));
    CHECK(is_hex(a.fingerprint_short, 16));
    CHECK(strncmp(a.fingerprint, a.fingerprint_short, 16) == 0);
    CHECK_EQ_STR(a.fingerprint, b.fingerprint);

    /* Recomputing gives the same; a performance field changes it; a field
     * left out on purpose (browser path, driver version, uarch) does not. */
    char before[65];
    memcpy(before, a.fingerprint, sizeof before);
    REQUIRE(ia_hw_fingerprint(&a) == IA_OK);
    CHECK_EQ_STR(a.fingerprint, before);
    snprintf(a.chromium_path, sizeof a.chromium_path, "/opt/elsewhere/chromium");
    snprintf(a.uarch, sizeof a.uarch, "renamed");
    a.total_memory_bytes += 1 << 20; /* same GiB after rounding */
    REQUIRE(ia_hw_fingerprint(&a) == IA_OK);
    CHECK_EQ_STR(a.fingerprint, before);
    a.logical_cpus++;
    REQUIRE(ia_hw_fingerprint(&a) == IA_OK);
    CHECK(strcmp(a.fingerprint, before) != 0);
    a.logical_cpus--;
    a.features[IA_HW_SSE4_2] = !a.features[IA_HW_SSE4_2];
    REQUIRE(ia_hw_fingerprint(&a) == IA_OK);
    CHECK(strcmp(a.fingerprint, before) != 0);
}

/* The canonical string is documented field by field in hw.h; pin it. */
static void test_canonical_string(void) {
    struct ia_hw_info hw;
    memset(&hw, 0, sizeof hw);
    strcpy(hw.arch, "x86_64");
    strcpy(hw.vendor, "Intel");
    strcpy(hw.model, "Test CPU");
    hw.logical_cpus = 4;
    hw.physical_cores = 2;
    hw.features[IA_HW_AVX] = hw.features[IA_HW_AVX2] = true;
    hw.caches[IA_HW_L1D] = (struct ia_hw_cache){32768, 2};
    hw.caches[IA_HW_L3] = (struct ia_hw_cache){8u << 20, 1};
    hw.numa_nodes = 1;
    hw.total_memory_bytes = (UINT64_C(15) << 30) + (UINT64_C(600) << 20); /* 15.6 GiB -> 16 */
    hw.n_gpus = 1;
    strcpy(hw.gpus[0].name, "NVIDIA H100 80GB HBM3");
    hw.gpus[0].memory_bytes = 85520809984ull;
    const char *want = "ia-hw-fingerprint-v1\narch=x86_64\nvendor=Intel\nmodel=Test CPU\n"
                       "logical_cpus=4\nphysical_cores=2\nfeatures=avx,avx2\n"
                       "l1d=32768x2\nl1i=0x0\nl2=0x0\nl3=8388608x1\n"
                       "numa_nodes=1\nmemory_gib=16\ngpu=NVIDIA H100 80GB HBM3,85520809984\n";
    char buf[1024];
    size_t n = ia_hw_canonical_string(&hw, buf, sizeof buf);
    CHECK_EQ_STR(buf, want);
    CHECK_EQ_INT(n, strlen(want));
    char small[10];
    CHECK_EQ_INT(ia_hw_canonical_string(&hw, small, sizeof small), strlen(want));
    CHECK_EQ_INT(strlen(small), sizeof small - 1); /* truncated, terminated */
    CHECK_EQ_INT(ia_hw_canonical_string(&hw, NULL, 0), strlen(want));
}

static void test_json_round_trip(void) {
    struct ia_hw_info hw, back;
    REQUIRE(ia_hw_detect(&hw) == IA_OK);
    /* a GPU too, so that part of the schema is exercised on any machine */
    if (hw.n_gpus == 0) {
        hw.n_gpus = 1;
        strcpy(hw.gpus[0].vendor, "NVIDIA");
        strcpy(hw.gpus[0].name, "Test GPU");
        hw.gpus[0].memory_bytes = 80ull << 30;
        hw.gpus[0].cc_major = 9;
        hw.gpus[0].cc_minor = 0;
        REQUIRE(ia_hw_fingerprint(&hw) == IA_OK);
    }
    json_t *doc;
    REQUIRE(ia_hw_to_json(&hw, &doc) == IA_OK);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    REQUIRE(text != NULL);
    json_error_t err;
    json_t *parsed = json_loads(text, 0, &err);
    free(text);
    REQUIRE(parsed != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(parsed, "version")), IA_VERSION_STRING);
    CHECK_EQ_STR(json_string_value(json_object_get(parsed, "fingerprint")), hw.fingerprint);
    json_t *cpu = json_object_get(parsed, "cpu");
    CHECK_EQ_INT(json_integer_value(json_object_get(cpu, "logical_cpus")), hw.logical_cpus);
    CHECK_EQ_INT(json_object_size(json_object_get(cpu, "features")), IA_HW_FEATURE_COUNT);

    int rc = ia_hw_from_json(parsed, &back);
    if (rc != IA_OK) fprintf(stderr, "ia_hw_from_json: %s\n", ia_error_msg());
    REQUIRE(rc == IA_OK);
    /* Every field survives: both structs were zeroed, then filled, so
     * they compare equal byte for byte. */
    CHECK(memcmp(&hw, &back, sizeof back) == 0);
    CHECK_EQ_STR(back.gpus[0].name, hw.gpus[0].name);
    CHECK_EQ_INT(back.gpus[0].cc_major, hw.gpus[0].cc_major);
    CHECK_EQ_INT(back.total_memory_bytes, hw.total_memory_bytes);
    REQUIRE(ia_hw_fingerprint(&back) == IA_OK);
    CHECK_EQ_STR(back.fingerprint, hw.fingerprint);

    /* Wrong types are format errors, not crashes. */
    json_object_set_new(json_object_get(parsed, "cpu"), "logical_cpus", json_string("two"));
    CHECK_EQ_INT(ia_hw_from_json(parsed, &back), IA_EFORMAT);
    CHECK(strstr(ia_error_msg(), "logical_cpus") != NULL);
    json_object_del(parsed, "cpu");
    CHECK_EQ_INT(ia_hw_from_json(parsed, &back), IA_EFORMAT);
    json_decref(parsed);
    CHECK_EQ_INT(ia_hw_from_json(NULL, &back), IA_EFORMAT);
}

static int make_file(const char *dir, const char *name, mode_t mode) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fclose(f);
    return chmod(path, mode);
}

/* Browsers are found on $PATH as a shell would, skipping folders and
 * files that are not executable; nothing is started. */
static void test_browsers_on_path(void) {
    char root[] = "/tmp/ia_test_hw_XXXXXX", bin1[64], bin2[64], want[128];
    REQUIRE(mkdtemp(root) != NULL);
    snprintf(bin1, sizeof bin1, "%s/bin1", root);
    snprintf(bin2, sizeof bin2, "%s/bin2", root);
    REQUIRE(mkdir(bin1, 0755) == 0 && mkdir(bin2, 0755) == 0);
    char chromium_dir[96];
    snprintf(chromium_dir, sizeof chromium_dir, "%s/chromium", bin1);
    REQUIRE(mkdir(chromium_dir, 0755) == 0);                 /* a folder: skipped */
    REQUIRE(make_file(bin2, "chromium", 0644) == 0);         /* not executable: skipped */
    REQUIRE(make_file(bin2, "chromium-browser", 0755) == 0); /* the one */
    REQUIRE(make_file(bin1, "chromedriver", 0755) == 0);

    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    char path_env[256];
    snprintf(path_env, sizeof path_env, "::/nonexistent:%s:%s", bin1, bin2);
    setenv("PATH", path_env, 1);
    struct ia_hw_info hw;
    int rc = ia_hw_detect(&hw);
    snprintf(path_env, sizeof path_env, "/nonexistent");
    setenv("PATH", path_env, 1);
    struct ia_hw_info none;
    int rc2 = ia_hw_detect(&none);
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    free(saved);

    CHECK_EQ_INT(rc, IA_OK);
    snprintf(want, sizeof want, "%s/chromium-browser", bin2);
    CHECK_EQ_STR(hw.chromium_path, want);
    snprintf(want, sizeof want, "%s/chromedriver", bin1);
    CHECK_EQ_STR(hw.chromedriver_path, want);
    CHECK_EQ_INT(rc2, IA_OK);
    CHECK_EQ_STR(none.chromium_path, "");
    CHECK_EQ_STR(none.chromedriver_path, "");
    CHECK_EQ_STR(none.fingerprint, hw.fingerprint); /* browsers are not hardware */

    static const char *const names[] = {"bin2/chromium",
                                        "bin2/chromium-browser",
                                        "bin1/chromedriver",
                                        "bin1/chromium",
                                        "bin1",
                                        "bin2",
                                        ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", root, names[i]);
        CHECK(remove(p) == 0);
    }
}

static void test_names(void) {
    for (int f = 0; f < IA_HW_FEATURE_COUNT; f++) {
        REQUIRE(ia_hw_feature_name(f) != NULL);
        for (int g = 0; g < f; g++)
            CHECK(strcmp(ia_hw_feature_name(f), ia_hw_feature_name(g)) != 0);
    }
    CHECK(ia_hw_feature_name(IA_HW_FEATURE_COUNT) == NULL);
    CHECK_EQ_STR(ia_hw_feature_name(IA_HW_AVX512_VNNI), "avx512_vnni");
    CHECK_EQ_STR(ia_hw_cache_name(IA_HW_L3), "l3");
    CHECK(ia_hw_cache_name(IA_HW_CACHE_COUNT) == NULL);
}

TEST_MAIN(T(test_detect), T(test_fingerprint_stable), T(test_canonical_string),
          T(test_json_round_trip), T(test_browsers_on_path), T(test_names))
