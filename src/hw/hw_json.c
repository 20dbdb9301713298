/* struct ia_hw_info <-> JSON (schema in include/ia/hw.h). The same
 * document is printed by `hw --json` and stored by db with each result, so
 * keys only ever get added, never renamed. */
#include <stdio.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "ia/core.h"

static const char *const gpu_status_names[] = {
    [IA_HW_GPU_OK] = "ok",
    [IA_HW_GPU_NO_LIBRARY] = "no_library",
    [IA_HW_GPU_INIT_FAILED] = "init_failed",
};
#define N_GPU_STATUS ((int)(sizeof gpu_status_names / sizeof gpu_status_names[0]))

/* json_string of "" is null: "not known / not present". */
static json_t *string_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* Takes ownership of `value` (like json_object_set_new); counts failures. */
static void put(json_t *obj, const char *key, json_t *value, int *failed) {
    if (!obj) {
        json_decref(value);
        *failed = 1;
    } else if (!value || json_object_set_new(obj, key, value) != 0) {
        *failed = 1; /* set_new has released value */
    }
}

static json_t *bytes(uint64_t v, int *failed) {
    if (v > (uint64_t)INT64_MAX) {
        *failed = 1;
        return NULL;
    }
    return json_integer((json_int_t)v);
}

int ia_hw_to_json(const struct ia_hw_info *hw, json_t **out) {
    *out = NULL;
    if (hw->n_gpus < 0 || hw->n_gpus > IA_HW_MAX_GPUS || (int)hw->gpu_status < 0 ||
        (int)hw->gpu_status >= N_GPU_STATUS)
        return ia_error_set(IA_EINVAL, "hw: bad struct ia_hw_info (%d GPUs, status %d)", hw->n_gpus,
                            (int)hw->gpu_status);
    int failed = 0;
    json_t *root = json_object();

    json_t *cpu = json_object(), *features = json_object();
    put(cpu, "arch", json_string(hw->arch), &failed);
    put(cpu, "vendor", json_string(hw->vendor), &failed);
    put(cpu, "model", json_string(hw->model), &failed);
    put(cpu, "uarch", string_or_null(hw->uarch), &failed);
    put(cpu, "physical_cores", json_integer(hw->physical_cores), &failed);
    put(cpu, "logical_cpus", json_integer(hw->logical_cpus), &failed);
    for (int f = 0; f < IA_HW_FEATURE_COUNT; f++)
        put(features, ia_hw_feature_name(f), json_boolean(hw->features[f]), &failed);
    put(cpu, "features", features, &failed);
    put(root, "cpu", cpu, &failed);

    json_t *caches = json_object();
    for (int c = 0; c < IA_HW_CACHE_COUNT; c++) {
        json_t *level = json_object();
        put(level, "size_bytes", bytes(hw->caches[c].size_bytes, &failed), &failed);
        put(level, "count", json_integer(hw->caches[c].count), &failed);
        put(caches, ia_hw_cache_name(c), level, &failed);
    }
    put(root, "caches", caches, &failed);

    json_t *memory = json_object();
    put(memory, "total_bytes", bytes(hw->total_memory_bytes, &failed), &failed);
    put(memory, "hwloc_bytes", bytes(hw->hwloc_memory_bytes, &failed), &failed);
    put(memory, "os_bytes", bytes(hw->os_memory_bytes, &failed), &failed);
    put(root, "memory", memory, &failed);
    put(root, "numa_nodes", json_integer(hw->numa_nodes), &failed);

    json_t *gpus = json_array();
    for (int g = 0; g < hw->n_gpus; g++) {
        const struct ia_hw_gpu *src = &hw->gpus[g];
        json_t *gpu = json_object();
        char cc[32] = "";
        if (src->cc_major >= 0 && src->cc_minor >= 0)
            snprintf(cc, sizeof cc, "%d.%d", src->cc_major, src->cc_minor);
        put(gpu, "vendor", json_string(src->vendor), &failed);
        put(gpu, "name", json_string(src->name), &failed);
        put(gpu, "memory_bytes", bytes(src->memory_bytes, &failed), &failed);
        put(gpu, "compute_capability", string_or_null(cc), &failed);
        if (!gpus) {
            json_decref(gpu);
            failed = 1;
        } else if (!gpu || json_array_append_new(gpus, gpu) != 0) {
            failed = 1;
        }
    }
    put(root, "gpus", gpus, &failed);

    json_t *driver = json_object();
    put(driver, "status", json_string(gpu_status_names[hw->gpu_status]), &failed);
    put(driver, "version", string_or_null(hw->gpu_driver_version), &failed);
    put(root, "gpu_driver", driver, &failed);

    json_t *browsers = json_object();
    put(browsers, "chromium", string_or_null(hw->chromium_path), &failed);
    put(browsers, "chromedriver", string_or_null(hw->chromedriver_path), &failed);
    put(root, "browsers", browsers, &failed);

    put(root, "fingerprint", json_string(hw->fingerprint), &failed);
    put(root, "fingerprint_short", json_string(hw->fingerprint_short), &failed);
    put(root, "version", json_string(IA_VERSION_STRING), &failed);

    if (failed) {
        json_decref(root);
        return ia_error_set(IA_ENOMEM, "hw: cannot build the JSON document");
    }
    *out = root;
    return IA_OK;
}

/* ---- reading back ------------------------------------------------------ */

static int get_obj(const json_t *parent, const char *key, const json_t **out) {
    *out = json_object_get(parent, key);
    if (!json_is_object(*out))
        return ia_error_set(IA_EFORMAT, "hw json: '%s' is not an object", key);
    return IA_OK;
}

/* A string field into dst[cap]; JSON null reads as "" when nullable. */
static int get_str(const json_t *parent, const char *key, int nullable, char *dst, size_t cap) {
    const json_t *v = json_object_get(parent, key);
    if (nullable && json_is_null(v)) {
        dst[0] = '\0';
        return IA_OK;
    }
    if (!json_is_string(v)) return ia_error_set(IA_EFORMAT, "hw json: '%s' is not a string", key);
    if (json_string_length(v) >= cap)
        return ia_error_set(IA_EFORMAT, "hw json: '%s' is longer than %zu bytes", key, cap - 1);
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return IA_OK;
}

static int get_int(const json_t *parent, const char *key, json_int_t min, json_int_t max,
                   json_int_t *out) {
    const json_t *v = json_object_get(parent, key);
    if (!json_is_integer(v))
        return ia_error_set(IA_EFORMAT, "hw json: '%s' is not an integer", key);
    *out = json_integer_value(v);
    if (*out < min || *out > max)
        return ia_error_set(IA_EFORMAT, "hw json: '%s' = %lld is out of range", key,
                            (long long)*out);
    return IA_OK;
}

static int read_cpu(const json_t *doc, struct ia_hw_info *hw) {
    const json_t *cpu, *features;
    json_int_t v = 0;
    int rc = get_obj(doc, "cpu", &cpu);
    if (rc == IA_OK) rc = get_str(cpu, "arch", 0, hw->arch, sizeof hw->arch);
    if (rc == IA_OK) rc = get_str(cpu, "vendor", 0, hw->vendor, sizeof hw->vendor);
    if (rc == IA_OK) rc = get_str(cpu, "model", 0, hw->model, sizeof hw->model);
    if (rc == IA_OK) rc = get_str(cpu, "uarch", 1, hw->uarch, sizeof hw->uarch);
    if (rc == IA_OK) rc = get_int(cpu, "physical_cores", 0, INT32_MAX, &v);
    if (rc == IA_OK) hw->physical_cores = (int)v;
    if (rc == IA_OK) rc = get_int(cpu, "logical_cpus", 0, INT32_MAX, &v);
    if (rc == IA_OK) hw->logical_cpus = (int)v;
    if (rc == IA_OK) rc = get_obj(cpu, "features", &features);
    for (int f = 0; rc == IA_OK && f < IA_HW_FEATURE_COUNT; f++) {
        /* A feature newer than the document is absent: not present then. */
        const json_t *b = json_object_get(features, ia_hw_feature_name(f));
        if (b && !json_is_boolean(b))
            rc = ia_error_set(IA_EFORMAT, "hw json: feature '%s' is not a boolean",
                              ia_hw_feature_name(f));
        hw->features[f] = json_is_true(b);
    }
    return rc;
}

static int read_gpus(const json_t *doc, struct ia_hw_info *hw) {
    const json_t *gpus = json_object_get(doc, "gpus"), *driver;
    if (!json_is_array(gpus)) return ia_error_set(IA_EFORMAT, "hw json: 'gpus' is not an array");
    if (json_array_size(gpus) > IA_HW_MAX_GPUS)
        return ia_error_set(IA_EFORMAT, "hw json: more than %d GPUs", IA_HW_MAX_GPUS);
    int rc = IA_OK;
    for (size_t i = 0; rc == IA_OK && i < json_array_size(gpus); i++) {
        const json_t *gpu = json_array_get(gpus, i);
        struct ia_hw_gpu *g = &hw->gpus[i];
        char cc[32];
        json_int_t mem = 0;
        if (!json_is_object(gpu))
            return ia_error_set(IA_EFORMAT, "hw json: gpus[%zu] is not an object", i);
        rc = get_str(gpu, "vendor", 0, g->vendor, sizeof g->vendor);
        if (rc == IA_OK) rc = get_str(gpu, "name", 0, g->name, sizeof g->name);
        if (rc == IA_OK) rc = get_int(gpu, "memory_bytes", 0, INT64_MAX, &mem);
        if (rc == IA_OK) g->memory_bytes = (uint64_t)mem;
        if (rc == IA_OK) rc = get_str(gpu, "compute_capability", 1, cc, sizeof cc);
        g->cc_major = g->cc_minor = -1;
        if (rc == IA_OK && cc[0] && sscanf(cc, "%d.%d", &g->cc_major, &g->cc_minor) != 2)
            rc = ia_error_set(IA_EFORMAT, "hw json: bad compute capability '%s'", cc);
        if (rc == IA_OK) hw->n_gpus = (int)i + 1;
    }
    char status[32];
    if (rc == IA_OK) rc = get_obj(doc, "gpu_driver", &driver);
    if (rc == IA_OK) rc = get_str(driver, "status", 0, status, sizeof status);
    if (rc == IA_OK) {
        int s = 0;
        while (s < N_GPU_STATUS && strcmp(status, gpu_status_names[s]) != 0) s++;
        if (s == N_GPU_STATUS)
            return ia_error_set(IA_EFORMAT, "hw json: bad GPU status '%s'", status);
        hw->gpu_status = (enum ia_hw_gpu_status)s;
    }
    if (rc == IA_OK)
        rc = get_str(driver, "version", 1, hw->gpu_driver_version, sizeof hw->gpu_driver_version);
    return rc;
}

int ia_hw_from_json(const json_t *doc, struct ia_hw_info *out) {
    memset(out, 0, sizeof *out);
    if (!json_is_object(doc)) return ia_error_set(IA_EFORMAT, "hw json: not an object");
    const json_t *caches, *memory, *browsers;
    json_int_t v = 0;
    int rc = read_cpu(doc, out);
    if (rc == IA_OK) rc = get_obj(doc, "caches", &caches);
    for (int c = 0; rc == IA_OK && c < IA_HW_CACHE_COUNT; c++) {
        const json_t *level;
        rc = get_obj(caches, ia_hw_cache_name(c), &level);
        if (rc == IA_OK) rc = get_int(level, "size_bytes", 0, INT64_MAX, &v);
        if (rc == IA_OK) out->caches[c].size_bytes = (uint64_t)v;
        if (rc == IA_OK) rc = get_int(level, "count", 0, UINT32_MAX, &v);
        if (rc == IA_OK) out->caches[c].count = (uint32_t)v;
    }
    if (rc == IA_OK) rc = get_obj(doc, "memory", &memory);
    if (rc == IA_OK) rc = get_int(memory, "total_bytes", 0, INT64_MAX, &v);
    if (rc == IA_OK) out->total_memory_bytes = (uint64_t)v;
    if (rc == IA_OK) rc = get_int(memory, "hwloc_bytes", 0, INT64_MAX, &v);
    if (rc == IA_OK) out->hwloc_memory_bytes = (uint64_t)v;
    if (rc == IA_OK) rc = get_int(memory, "os_bytes", 0, INT64_MAX, &v);
    if (rc == IA_OK) out->os_memory_bytes = (uint64_t)v;
    if (rc == IA_OK) rc = get_int(doc, "numa_nodes", 0, INT32_MAX, &v);
    if (rc == IA_OK) out->numa_nodes = (int)v;
    if (rc == IA_OK) rc = read_gpus(doc, out);
    if (rc == IA_OK) rc = get_obj(doc, "browsers", &browsers);
    if (rc == IA_OK)
        rc = get_str(browsers, "chromium", 1, out->chromium_path, sizeof out->chromium_path);
    if (rc == IA_OK)
        rc = get_str(browsers, "chromedriver", 1, out->chromedriver_path,
                     sizeof out->chromedriver_path);
    if (rc == IA_OK) rc = get_str(doc, "fingerprint", 0, out->fingerprint, sizeof out->fingerprint);
    if (rc == IA_OK)
        rc = get_str(doc, "fingerprint_short", 0, out->fingerprint_short,
                     sizeof out->fingerprint_short);
    return rc;
}
