/* CPU, caches, memory and NUMA detection (libcpuinfo + hwloc), the feature
 * and cache name tables, and the fingerprint. GPUs: hw_gpu.c; browsers:
 * hw_browser.c; JSON: hw_json.c. */
#include "ia/hw.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>

#include <cpuinfo.h>
#include <hwloc.h>
#include <openssl/evp.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "hw/hw_internal.h"
#include "ia/core.h"

static const char *const feature_names[] = {
    [IA_HW_SSE4_2] = "sse4_2",
    [IA_HW_AVX] = "avx",
    [IA_HW_AVX2] = "avx2",
    [IA_HW_FMA3] = "fma3",
    [IA_HW_F16C] = "f16c",
    [IA_HW_AVX512F] = "avx512f",
    [IA_HW_AVX512BW] = "avx512bw",
    [IA_HW_AVX512VL] = "avx512vl",
    [IA_HW_AVX512_VNNI] = "avx512_vnni",
    [IA_HW_AVX512_BF16] = "avx512_bf16",
    [IA_HW_AVX_VNNI] = "avx_vnni",
    [IA_HW_AMX_BF16] = "amx_bf16",
    [IA_HW_AMX_INT8] = "amx_int8",
    [IA_HW_AMX_TILE] = "amx_tile",
    [IA_HW_NEON] = "neon",
    [IA_HW_SVE] = "sve",
    [IA_HW_DOTPROD] = "dotprod",
};
_Static_assert(sizeof feature_names / sizeof feature_names[0] == IA_HW_FEATURE_COUNT,
               "one name per feature");

const char *ia_hw_feature_name(enum ia_hw_feature f) {
    if ((int)f < 0 || f >= IA_HW_FEATURE_COUNT) return NULL;
    return feature_names[f];
}

bool ia_hw_feature_native(enum ia_hw_feature f) {
#if defined(__x86_64__)
    return (int)f >= 0 && f <= IA_HW_AMX_TILE;
#elif defined(__aarch64__)
    return f >= IA_HW_NEON && f < IA_HW_FEATURE_COUNT;
#else
    (void)f;
    return false;
#endif
}

static const char *const cache_names[] = {
    [IA_HW_L1D] = "l1d", [IA_HW_L1I] = "l1i", [IA_HW_L2] = "l2", [IA_HW_L3] = "l3"};
_Static_assert(sizeof cache_names / sizeof cache_names[0] == IA_HW_CACHE_COUNT,
               "one name per cache level");

const char *ia_hw_cache_name(enum ia_hw_cache_level level) {
    if ((int)level < 0 || level >= IA_HW_CACHE_COUNT) return NULL;
    return cache_names[level];
}

void ia_hw_copy_clean(char *dst, size_t cap, const char *src) {
    if (!cap) return;
    dst[0] = '\0';
    if (!src) return;
    while (*src && isspace((unsigned char)*src)) src++;
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) dst[n++] = iscntrl((unsigned char)*src) ? ' ' : *src;
    while (n > 0 && isspace((unsigned char)dst[n - 1])) n--;
    dst[n] = '\0';
}

/* ---- CPU: libcpuinfo ---------------------------------------------------- */

static const char *vendor_name(enum cpuinfo_vendor v) {
    switch (v) {
    case cpuinfo_vendor_intel:
        return "Intel";
    case cpuinfo_vendor_amd:
        return "AMD";
    case cpuinfo_vendor_arm:
        return "ARM";
    case cpuinfo_vendor_qualcomm:
        return "Qualcomm";
    case cpuinfo_vendor_apple:
        return "Apple";
    case cpuinfo_vendor_samsung:
        return "Samsung";
    case cpuinfo_vendor_nvidia:
        return "NVIDIA";
    case cpuinfo_vendor_ibm:
        return "IBM";
    case cpuinfo_vendor_via:
        return "VIA";
    case cpuinfo_vendor_cavium:
        return "Cavium";
    case cpuinfo_vendor_broadcom:
        return "Broadcom";
    case cpuinfo_vendor_apm:
        return "APM";
    case cpuinfo_vendor_huawei:
        return "Huawei";
    case cpuinfo_vendor_hygon:
        return "Hygon";
    case cpuinfo_vendor_marvell:
        return "Marvell";
    default:
        return "unknown";
    }
}

/* libcpuinfo has no name function; these are its enum names. Values it
 * knows but we do not list come out as "" (unknown) rather than a guess. */
static const char *uarch_name(enum cpuinfo_uarch u) {
    switch (u) {
    case cpuinfo_uarch_nehalem:
        return "nehalem";
    case cpuinfo_uarch_sandy_bridge:
        return "sandy_bridge";
    case cpuinfo_uarch_ivy_bridge:
        return "ivy_bridge";
    case cpuinfo_uarch_haswell:
        return "haswell";
    case cpuinfo_uarch_broadwell:
        return "broadwell";
    /* libcpuinfo folds Kaby/Coffee/Cascade Lake into this value. */
    case cpuinfo_uarch_sky_lake:
        return "sky_lake";
    case cpuinfo_uarch_palm_cove:
        return "palm_cove";
    case cpuinfo_uarch_sunny_cove:
        return "sunny_cove";
    case cpuinfo_uarch_silvermont:
        return "silvermont";
    case cpuinfo_uarch_airmont:
        return "airmont";
    case cpuinfo_uarch_goldmont:
        return "goldmont";
    case cpuinfo_uarch_goldmont_plus:
        return "goldmont_plus";
    case cpuinfo_uarch_knights_landing:
        return "knights_landing";
    case cpuinfo_uarch_knights_mill:
        return "knights_mill";
    case cpuinfo_uarch_bulldozer:
        return "bulldozer";
    case cpuinfo_uarch_piledriver:
        return "piledriver";
    case cpuinfo_uarch_steamroller:
        return "steamroller";
    case cpuinfo_uarch_excavator:
        return "excavator";
    case cpuinfo_uarch_zen:
        return "zen";
    case cpuinfo_uarch_zen2:
        return "zen2";
    case cpuinfo_uarch_zen3:
        return "zen3";
    case cpuinfo_uarch_dhyana:
        return "dhyana";
    case cpuinfo_uarch_cortex_a53:
        return "cortex_a53";
    case cpuinfo_uarch_cortex_a55:
        return "cortex_a55";
    case cpuinfo_uarch_cortex_a57:
        return "cortex_a57";
    case cpuinfo_uarch_cortex_a72:
        return "cortex_a72";
    case cpuinfo_uarch_cortex_a73:
        return "cortex_a73";
    case cpuinfo_uarch_cortex_a75:
        return "cortex_a75";
    case cpuinfo_uarch_cortex_a76:
        return "cortex_a76";
    case cpuinfo_uarch_cortex_a77:
        return "cortex_a77";
    case cpuinfo_uarch_cortex_a78:
        return "cortex_a78";
    case cpuinfo_uarch_cortex_x1:
        return "cortex_x1";
    case cpuinfo_uarch_neoverse_n1:
        return "neoverse_n1";
    case cpuinfo_uarch_neoverse_e1:
        return "neoverse_e1";
    case cpuinfo_uarch_neoverse_v1:
        return "neoverse_v1";
    case cpuinfo_uarch_neoverse_n2:
        return "neoverse_n2";
    case cpuinfo_uarch_thunderx2:
        return "thunderx2";
    case cpuinfo_uarch_taishan_v110:
        return "taishan_v110";
    case cpuinfo_uarch_firestorm:
        return "firestorm";
    case cpuinfo_uarch_icestorm:
        return "icestorm";
    default:
        return "";
    }
}

#if defined(__x86_64__)
/* The packaged libcpuinfo (2022) predates AVX-VNNI and AMX, so these come
 * from CPUID leaf 7 directly, gated on the OS enabling the register state
 * in XCR0 (AVX: bits 1-2; AMX: bits 17-18 XTILECFG/XTILEDATA) as Linux's
 * /proc/cpuinfo flags are. */
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect_x86_cpuid_extras(struct ia_hw_info *hw) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return; /* no OSXSAVE */
    uint64_t xcr0 = read_xcr0();
    bool avx_os = (xcr0 & 0x6) == 0x6;
    bool amx_os = (xcr0 & (3ull << 17)) == (3ull << 17);
    if (__get_cpuid_max(0, NULL) < 7) return;
    unsigned a0, b0, c0, d0;
    __cpuid_count(7, 0, a0, b0, c0, d0);
    (void)b0;
    (void)c0;
    hw->features[IA_HW_AMX_BF16] = amx_os && (d0 & (1u << 22));
    hw->features[IA_HW_AMX_TILE] = amx_os && (d0 & (1u << 24));
    hw->features[IA_HW_AMX_INT8] = amx_os && (d0 & (1u << 25));
    if (a0 >= 1) { /* subleaf 1 exists */
        unsigned a1, b1, c1, d1;
        __cpuid_count(7, 1, a1, b1, c1, d1);
        (void)b1;
        (void)c1;
        (void)d1;
        hw->features[IA_HW_AVX_VNNI] = avx_os && (a1 & (1u << 4));
    }
}
#endif

static void detect_features(struct ia_hw_info *hw) {
#if defined(__x86_64__)
    bool *f = hw->features;
    f[IA_HW_SSE4_2] = cpuinfo_has_x86_sse4_2();
    f[IA_HW_AVX] = cpuinfo_has_x86_avx();
    f[IA_HW_AVX2] = cpuinfo_has_x86_avx2();
    f[IA_HW_FMA3] = cpuinfo_has_x86_fma3();
    f[IA_HW_F16C] = cpuinfo_has_x86_f16c();
    f[IA_HW_AVX512F] = cpuinfo_has_x86_avx512f();
    f[IA_HW_AVX512BW] = cpuinfo_has_x86_avx512bw();
    f[IA_HW_AVX512VL] = cpuinfo_has_x86_avx512vl();
    f[IA_HW_AVX512_VNNI] = cpuinfo_has_x86_avx512vnni();
    f[IA_HW_AVX512_BF16] = cpuinfo_has_x86_avx512bf16();
    detect_x86_cpuid_extras(hw);
#elif defined(__aarch64__)
    hw->features[IA_HW_NEON] = cpuinfo_has_arm_neon();
    hw->features[IA_HW_SVE] = cpuinfo_has_arm_sve();
    hw->features[IA_HW_DOTPROD] = cpuinfo_has_arm_neon_dot();
#else
    (void)hw;
#endif
}

static const char *arch_name(void) {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "unknown";
#endif
}

static int detect_cpuinfo(struct ia_hw_info *hw) {
    if (!cpuinfo_initialize()) return ia_error_set(IA_EIO, "hw: libcpuinfo cannot read this CPU");
    const struct cpuinfo_core *core = cpuinfo_get_cores_count() ? cpuinfo_get_core(0) : NULL;
    const struct cpuinfo_package *pkg =
        cpuinfo_get_packages_count() ? cpuinfo_get_package(0) : NULL;
    ia_hw_copy_clean(hw->vendor, sizeof hw->vendor,
                     vendor_name(core ? core->vendor : cpuinfo_vendor_unknown));
    ia_hw_copy_clean(hw->uarch, sizeof hw->uarch,
                     uarch_name(core ? core->uarch : cpuinfo_uarch_unknown));
    if (pkg) ia_hw_copy_clean(hw->model, sizeof hw->model, pkg->name);
    detect_features(hw);
    return IA_OK;
}

#if defined(__x86_64__)
/* libcpuinfo's caches on x86 come from CPUID leaf 4 (measured). On Arm it
 * fills them from per-core tables, so there we take hwloc's word only. */
static void cache_from_cpuinfo(struct ia_hw_info *hw) {
    struct {
        enum ia_hw_cache_level level;
        uint32_t n;
        const struct cpuinfo_cache *c;
    } t[] = {
        {IA_HW_L1D, cpuinfo_get_l1d_caches_count(), cpuinfo_get_l1d_caches()},
        {IA_HW_L1I, cpuinfo_get_l1i_caches_count(), cpuinfo_get_l1i_caches()},
        {IA_HW_L2, cpuinfo_get_l2_caches_count(), cpuinfo_get_l2_caches()},
        {IA_HW_L3, cpuinfo_get_l3_caches_count(), cpuinfo_get_l3_caches()},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct ia_hw_cache *dst = &hw->caches[t[i].level];
        if (dst->count || !t[i].n || !t[i].c) continue;
        dst->size_bytes = t[i].c[0].size;
        dst->count = t[i].n;
    }
}
#endif

/* ---- topology and memory: hwloc --------------------------------------- */

static int count_type(hwloc_topology_t topo, hwloc_obj_type_t type) {
    int n = hwloc_get_nbobjs_by_type(topo, type);
    return n > 0 ? n : 0;
}

static void cache_from_hwloc(struct ia_hw_info *hw, hwloc_topology_t topo) {
    static const struct {
        enum ia_hw_cache_level level;
        hwloc_obj_type_t type;
    } t[] = {
        {IA_HW_L1D, HWLOC_OBJ_L1CACHE},
        {IA_HW_L1I, HWLOC_OBJ_L1ICACHE},
        {IA_HW_L2, HWLOC_OBJ_L2CACHE},
        {IA_HW_L3, HWLOC_OBJ_L3CACHE},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int n = count_type(topo, t[i].type);
        hwloc_obj_t o = n ? hwloc_get_obj_by_type(topo, t[i].type, 0) : NULL;
        if (!o || !o->attr || !o->attr->cache.size) continue;
        hw->caches[t[i].level].size_bytes = o->attr->cache.size;
        hw->caches[t[i].level].count = (uint32_t)n;
    }
}

static int detect_hwloc(struct ia_hw_info *hw) {
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) return ia_error_set(IA_EIO, "hw: hwloc init failed");
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        return ia_error_set(IA_EIO, "hw: hwloc cannot load the topology");
    }
    hw->logical_cpus = count_type(topo, HWLOC_OBJ_PU);
    hw->physical_cores = count_type(topo, HWLOC_OBJ_CORE);
    hw->numa_nodes = count_type(topo, HWLOC_OBJ_NUMANODE);
    hwloc_obj_t root = hwloc_get_root_obj(topo);
    if (root) hw->hwloc_memory_bytes = root->total_memory;
    /* hwloc's x86 backend gives the full CPUID brand string, which beats
     * libcpuinfo's shortened one ("Intel Xeon 2.50GHz"). */
    hwloc_obj_t pkg = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PACKAGE, 0);
    const char *model = pkg ? hwloc_obj_get_info_by_name(pkg, "CPUModel") : NULL;
    if (model && *model) ia_hw_copy_clean(hw->model, sizeof hw->model, model);
    cache_from_hwloc(hw, topo);
    hwloc_topology_destroy(topo);
    return IA_OK;
}

static void detect_memory(struct ia_hw_info *hw) {
    struct sysinfo si;
    if (sysinfo(&si) == 0 && si.mem_unit > 0) {
        uint64_t total;
        if (!__builtin_mul_overflow((uint64_t)si.totalram, (uint64_t)si.mem_unit, &total))
            hw->os_memory_bytes = total;
    }
    hw->total_memory_bytes =
        hw->hwloc_memory_bytes > hw->os_memory_bytes ? hw->hwloc_memory_bytes : hw->os_memory_bytes;
}

/* ---- fingerprint --------------------------------------------------------- */

/* snprintf that appends at buf+*len and keeps counting past cap. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *dst = *len < cap ? buf + *len : NULL;
    size_t room = *len < cap ? cap - *len : 0;
    int n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

size_t ia_hw_canonical_string(const struct ia_hw_info *hw, char *buf, size_t cap) {
    size_t len = 0;
    if (cap) buf[0] = '\0';
    append(buf, cap, &len, "ia-hw-fingerprint-v1\narch=%s\nvendor=%s\nmodel=%s\n", hw->arch,
           hw->vendor, hw->model);
    append(buf, cap, &len, "logical_cpus=%d\nphysical_cores=%d\nfeatures=", hw->logical_cpus,
           hw->physical_cores);
    int first = 1;
    for (int f = 0; f < IA_HW_FEATURE_COUNT; f++) {
        if (!hw->features[f]) continue;
        append(buf, cap, &len, "%s%s", first ? "" : ",", feature_names[f]);
        first = 0;
    }
    append(buf, cap, &len, "\n");
    for (int c = 0; c < IA_HW_CACHE_COUNT; c++)
        append(buf, cap, &len, "%s=%llux%u\n", cache_names[c],
               (unsigned long long)hw->caches[c].size_bytes, hw->caches[c].count);
    uint64_t gib = (hw->total_memory_bytes + (UINT64_C(1) << 29)) >> 30;
    append(buf, cap, &len, "numa_nodes=%d\nmemory_gib=%llu\n", hw->numa_nodes,
           (unsigned long long)gib);
    int n_gpus = hw->n_gpus < 0 ? 0 : hw->n_gpus > IA_HW_MAX_GPUS ? IA_HW_MAX_GPUS : hw->n_gpus;
    for (int g = 0; g < n_gpus; g++)
        append(buf, cap, &len, "gpu=%s,%llu\n", hw->gpus[g].name,
               (unsigned long long)hw->gpus[g].memory_bytes);
    if (cap && len >= cap) buf[cap - 1] = '\0';
    return len;
}

int ia_hw_fingerprint(struct ia_hw_info *hw) {
    size_t n = ia_hw_canonical_string(hw, NULL, 0);
    char *s = ia_malloc(n + 1);
    if (!s) return ia_error_set(IA_ENOMEM, "hw: out of memory for the fingerprint");
    ia_hw_canonical_string(hw, s, n + 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int ok = EVP_Digest(s, n, md, &md_len, EVP_sha256(), NULL);
    ia_free(s);
    if (!ok || md_len != 32) return ia_error_set(IA_EINTERNAL, "hw: SHA-256 failed (OpenSSL)");
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < md_len; i++) {
        hw->fingerprint[2 * i] = hex[md[i] >> 4];
        hw->fingerprint[2 * i + 1] = hex[md[i] & 15];
    }
    hw->fingerprint[64] = '\0';
    memcpy(hw->fingerprint_short, hw->fingerprint, 16);
    hw->fingerprint_short[16] = '\0';
    return IA_OK;
}

/* ---- all together -------------------------------------------------------- */

int ia_hw_detect(struct ia_hw_info *out) {
    memset(out, 0, sizeof *out);
    ia_hw_copy_clean(out->arch, sizeof out->arch, arch_name());
    int rc = detect_cpuinfo(out);
    if (rc == IA_OK) rc = detect_hwloc(out);
    if (rc != IA_OK) return rc;
    detect_memory(out);
#if defined(__x86_64__)
    cache_from_cpuinfo(out);
#endif
    /* hwloc leaves out Core objects on some platforms; libcpuinfo's count
     * is the next best measured figure. */
    if (out->physical_cores == 0) out->physical_cores = (int)cpuinfo_get_cores_count();
    if (out->logical_cpus == 0) out->logical_cpus = (int)cpuinfo_get_processors_count();
    if (out->physical_cores < 1 || out->logical_cpus < out->physical_cores)
        return ia_error_set(IA_EIO, "hw: inconsistent topology (%d cores, %d logical CPUs)",
                            out->physical_cores, out->logical_cpus);
    if (!out->model[0]) ia_hw_copy_clean(out->model, sizeof out->model, "unknown");
    ia_hw_detect_gpus(out);
    ia_hw_detect_browsers(out);
    return ia_hw_fingerprint(out);
}
