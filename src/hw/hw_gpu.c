/* NVIDIA GPUs through NVML, loaded with dlopen so the build needs no CUDA
 * and the binary runs where no driver is installed.
 *
 * The few NVML declarations below are the driver's stable C ABI
 * (nvml.h, "_v2" entry points exist since driver 331): every call returns
 * nvmlReturn_t, 0 = NVML_SUCCESS; nvmlDevice_t is an opaque pointer;
 * nvmlMemory_t (v1) is three unsigned long long: total, free, used. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "hw/hw_internal.h"

typedef int nvml_return;
typedef struct nvml_device_st *nvml_device;
struct nvml_memory {
    unsigned long long total, free, used;
};

#define NVML_SUCCESS 0
#define NVML_NAME_BUFFER 96   /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_DRIVER_BUFFER 80 /* NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE */

struct nvml_api {
    nvml_return (*init)(void);
    nvml_return (*shutdown)(void);
    nvml_return (*get_count)(unsigned *);
    nvml_return (*get_handle)(unsigned, nvml_device *);
    nvml_return (*get_name)(nvml_device, char *, unsigned);
    nvml_return (*get_memory)(nvml_device, struct nvml_memory *);
    nvml_return (*get_cc)(nvml_device, int *, int *);
    nvml_return (*driver_version)(char *, unsigned);
};

/* dlsym returns an object pointer; POSIX guarantees it converts to a
 * function pointer, and memcpy says so without a cast warning. */
static int load_sym(void *lib, const char *name, void *fn_ptr, size_t size) {
    void *sym = dlsym(lib, name);
    if (!sym) return 0;
    memcpy(fn_ptr, &sym, size);
    return 1;
}
#define LOAD(lib, name, field) load_sym(lib, name, &(field), sizeof(field))

static void query_devices(const struct nvml_api *api, struct ia_hw_info *hw) {
    char ver[NVML_DRIVER_BUFFER] = "";
    if (api->driver_version && api->driver_version(ver, sizeof ver) == NVML_SUCCESS) {
        ver[sizeof ver - 1] = '\0';
        ia_hw_copy_clean(hw->gpu_driver_version, sizeof hw->gpu_driver_version, ver);
    }
    unsigned count = 0;
    if (api->get_count(&count) != NVML_SUCCESS) count = 0;
    for (unsigned i = 0; i < count && hw->n_gpus < IA_HW_MAX_GPUS; i++) {
        nvml_device dev;
        if (api->get_handle(i, &dev) != NVML_SUCCESS) continue;
        struct ia_hw_gpu *g = &hw->gpus[hw->n_gpus];
        memset(g, 0, sizeof *g);
        ia_hw_copy_clean(g->vendor, sizeof g->vendor, "NVIDIA");
        char name[NVML_NAME_BUFFER] = "";
        if (api->get_name(dev, name, sizeof name) == NVML_SUCCESS) {
            name[sizeof name - 1] = '\0';
            ia_hw_copy_clean(g->name, sizeof g->name, name);
        }
        if (!g->name[0]) ia_hw_copy_clean(g->name, sizeof g->name, "unknown NVIDIA GPU");
        struct nvml_memory mem;
        if (api->get_memory(dev, &mem) == NVML_SUCCESS) g->memory_bytes = mem.total;
        g->cc_major = g->cc_minor = -1;
        int major, minor;
        if (api->get_cc && api->get_cc(dev, &major, &minor) == NVML_SUCCESS) {
            g->cc_major = major;
            g->cc_minor = minor;
        }
        hw->n_gpus++;
    }
}

void ia_hw_detect_gpus(struct ia_hw_info *hw) {
    hw->n_gpus = 0;
    hw->gpu_driver_version[0] = '\0';
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        hw->gpu_status = IA_HW_GPU_NO_LIBRARY;
        return;
    }
    struct nvml_api api = {0};
    int ok = LOAD(lib, "nvmlInit_v2", api.init) && LOAD(lib, "nvmlShutdown", api.shutdown) &&
             LOAD(lib, "nvmlDeviceGetCount_v2", api.get_count) &&
             LOAD(lib, "nvmlDeviceGetHandleByIndex_v2", api.get_handle) &&
             LOAD(lib, "nvmlDeviceGetName", api.get_name) &&
             LOAD(lib, "nvmlDeviceGetMemoryInfo", api.get_memory);
    /* Optional: older drivers lack them; the answer is then "unknown". */
    LOAD(lib, "nvmlDeviceGetCudaComputeCapability", api.get_cc);
    LOAD(lib, "nvmlSystemGetDriverVersion", api.driver_version);
    if (!ok || api.init() != NVML_SUCCESS) {
        hw->gpu_status = IA_HW_GPU_INIT_FAILED;
        dlclose(lib);
        return;
    }
    hw->gpu_status = IA_HW_GPU_OK;
    query_devices(&api, hw);
    api.shutdown();
    dlclose(lib);
}
