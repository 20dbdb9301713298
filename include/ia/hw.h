/*
 * hw: what machine are we on? CPU, caches, memory, NUMA, GPUs, browsers,
 * and a stable fingerprint that names the hardware a result was measured on.
 *
 * Everything is queried, never guessed: the CPU and its ISA features come
 * from libcpuinfo (plus CPUID for the few x86 flags the packaged libcpuinfo
 * predates), core/PU/NUMA counts and memory from hwloc (memory checked
 * against sysinfo(2), see total_memory_bytes), NVIDIA GPUs from the
 * driver's NVML library loaded with dlopen at run time (no CUDA needed to
 * build; no driver = zero GPUs, which is a normal answer). Browsers are only
 * looked up on $PATH, never started.
 *
 * struct ia_hw_info is plain data with fixed-size fields: no allocation,
 * nothing to free, safe to copy. The engine uses it to pick kernels, bench
 * and db store it next to every measurement, predict matches on it.
 *
 * Fingerprint (SHA-256, lowercase hex) is taken over the canonical string
 * built by ia_hw_canonical_string(): one "key=value\n" line per field, in
 * this order, and nothing else:
 *
 *   ia-hw-fingerprint-v1
 *   arch=<x86_64|aarch64|...>
 *   vendor=<CPU vendor>
 *   model=<CPU model name>
 *   logical_cpus=<n>
 *   physical_cores=<n>
 *   features=<names of the features present, comma-separated, enum order>
 *   l1d=<size bytes>x<count>      (likewise l1i, l2, l3; 0x0 when unknown)
 *   numa_nodes=<n>
 *   memory_gib=<total_memory_bytes rounded to the nearest GiB>
 *   gpu=<name>,<memory bytes>     (one line per GPU, in NVML index order)
 *
 * Left out on purpose, because they change without the hardware changing:
 * microarchitecture name (depends on the libcpuinfo version), driver
 * version, compute capability (implied by the GPU name), browser paths,
 * exact memory bytes (the kernel's reservation moves by a few MiB).
 */
#ifndef IA_HW_H
#define IA_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ISA features that decide which kernels run. The x86 ones are only ever
 * set on x86-64, the Arm ones on AArch64. Names (ia_hw_feature_name) are
 * the JSON keys and follow Linux's /proc/cpuinfo spelling where one
 * exists ("fma3" is Linux's "fma"). */
enum ia_hw_feature {
    IA_HW_SSE4_2 = 0,
    IA_HW_AVX,
    IA_HW_AVX2,
    IA_HW_FMA3,
    IA_HW_F16C,
    IA_HW_AVX512F,
    IA_HW_AVX512BW,
    IA_HW_AVX512VL,
    IA_HW_AVX512_VNNI,
    IA_HW_AVX512_BF16,
    IA_HW_AVX_VNNI,
    IA_HW_AMX_BF16,
    IA_HW_AMX_INT8,
    IA_HW_AMX_TILE,
    IA_HW_NEON,
    IA_HW_SVE,
    IA_HW_DOTPROD,
    IA_HW_FEATURE_COUNT
};

/* Static string such as "avx512_vnni"; NULL for an out-of-range value. */
const char *ia_hw_feature_name(enum ia_hw_feature f);
/* Whether `f` belongs to the architecture this library was built for
 * (the report shows only those). */
bool ia_hw_feature_native(enum ia_hw_feature f);

enum ia_hw_cache_level { IA_HW_L1D = 0, IA_HW_L1I, IA_HW_L2, IA_HW_L3, IA_HW_CACHE_COUNT };
/* "l1d", "l1i", "l2", "l3"; NULL when out of range. */
const char *ia_hw_cache_name(enum ia_hw_cache_level level);

struct ia_hw_cache {
    uint64_t size_bytes; /* one instance; 0 when unknown */
    uint32_t count;      /* instances in the machine; 0 when unknown */
};

/* Why the GPU list is what it is. */
enum ia_hw_gpu_status {
    IA_HW_GPU_OK = 0,      /* NVML answered (the list may still be empty) */
    IA_HW_GPU_NO_LIBRARY,  /* libnvidia-ml.so.1 not installed */
    IA_HW_GPU_INIT_FAILED, /* library there but nvmlInit failed (no device/driver) */
};

#define IA_HW_MAX_GPUS 16

struct ia_hw_gpu {
    char vendor[16];        /* "NVIDIA" */
    char name[96];          /* "NVIDIA H100 80GB HBM3" */
    uint64_t memory_bytes;  /* total device memory as NVML reports it */
    int cc_major, cc_minor; /* CUDA compute capability; -1 when unknown */
};

struct ia_hw_info {
    char arch[16];      /* "x86_64", "aarch64" */
    char vendor[32];    /* "Intel", "AMD", "ARM", ... ("unknown" if libcpuinfo cannot tell) */
    char model[128];    /* brand string: "Intel(R) Xeon(R) Processor @ 2.50GHz" */
    char uarch[32];     /* libcpuinfo's name ("sky_lake", "zen3"); "" when unknown */
    int physical_cores; /* hwloc HWLOC_OBJ_CORE objects */
    int logical_cpus;   /* hwloc HWLOC_OBJ_PU objects */
    bool features[IA_HW_FEATURE_COUNT];
    struct ia_hw_cache caches[IA_HW_CACHE_COUNT];
    int numa_nodes; /* hwloc HWLOC_OBJ_NUMANODE objects */
    /* Two queried lower bounds of installed RAM, and the larger as the
     * total. hwloc sums the NUMA nodes' MemTotal, which on VMs that
     * initialise memory lazily (Firecracker, some hotplug setups) counts
     * only the pages touched so far and grows while the machine runs; the
     * kernel's sysinfo() total has all of it. 0 = that query failed. */
    uint64_t total_memory_bytes; /* max(hwloc_memory_bytes, os_memory_bytes) */
    uint64_t hwloc_memory_bytes; /* hwloc machine object total_memory */
    uint64_t os_memory_bytes;    /* sysinfo(2) totalram * mem_unit */

    enum ia_hw_gpu_status gpu_status;
    char gpu_driver_version[32]; /* "" when no driver */
    int n_gpus;
    struct ia_hw_gpu gpus[IA_HW_MAX_GPUS];

    char chromium_path[1024];     /* "" when absent */
    char chromedriver_path[1024]; /* "" when absent */

    char fingerprint[65];       /* SHA-256 of the canonical string, hex */
    char fingerprint_short[17]; /* its first 16 hex characters */
};

/* Fills `out` from the running machine (it is zeroed first) and computes the
 * fingerprint. No GPU or browser is not an error. Returns IA_OK, or IA_EIO
 * when libcpuinfo or hwloc cannot read the machine (message set). */
int ia_hw_detect(struct ia_hw_info *out);

/* Writes the canonical fingerprint string (see top) into buf like snprintf:
 * returns the length it needs, excluding the NUL; output is truncated but
 * terminated when cap is too small. */
size_t ia_hw_canonical_string(const struct ia_hw_info *hw, char *buf, size_t cap);

/* Recomputes hw->fingerprint and fingerprint_short from the other fields.
 * Returns IA_OK, IA_ENOMEM or IA_EINTERNAL (OpenSSL failed). */
int ia_hw_fingerprint(struct ia_hw_info *hw);

/* Builds the JSON document `ipfs-accelerate hw --json` prints:
 *   {"cpu":{"arch","vendor","model","uarch"(string|null),"physical_cores",
 *           "logical_cpus","features":{"<name>":bool for every feature}},
 *    "caches":{"l1d":{"size_bytes","count"},"l1i":..,"l2":..,"l3":..},
 *    "memory":{"total_bytes","hwloc_bytes","os_bytes"},"numa_nodes",
 *    "gpus":[{"vendor","name","memory_bytes","compute_capability"(string|null)}],
 *    "gpu_driver":{"status":"ok"|"no_library"|"init_failed","version"(string|null)},
 *    "browsers":{"chromium":path|null,"chromedriver":path|null},
 *    "fingerprint","fingerprint_short","version"}
 * *out is a new reference the caller releases with json_decref. */
int ia_hw_to_json(const struct ia_hw_info *hw, json_t **out);

/* The reverse, for profiles stored by db: fills *out from a document made by
 * ia_hw_to_json. Missing or ill-typed fields give IA_EFORMAT (message set).
 * The fingerprint is taken from the document as it is, not recomputed. */
int ia_hw_from_json(const json_t *doc, struct ia_hw_info *out);

#ifdef __cplusplus
}
#endif
#endif
