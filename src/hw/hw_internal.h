/* Private to src/hw: the parts of detection that live in their own files. */
#ifndef IA_HW_INTERNAL_H
#define IA_HW_INTERNAL_H

#include <stddef.h>

#include "ia/hw.h"

/* Fills gpu_status, gpu_driver_version, n_gpus and gpus from NVML, if the
 * driver library can be loaded. Never fails: no driver is zero GPUs. */
void ia_hw_detect_gpus(struct ia_hw_info *hw);

/* Fills chromium_path and chromedriver_path from $PATH ("" = absent). */
void ia_hw_detect_browsers(struct ia_hw_info *hw);

/* Copies src into dst[cap] truncating, always terminated; trims leading and
 * trailing whitespace and turns control characters into spaces, so strings
 * from the hardware are safe to print and hash. */
void ia_hw_copy_clean(char *dst, size_t cap, const char *src);

#endif
