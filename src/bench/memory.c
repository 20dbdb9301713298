/* Process memory as the kernel counts it. The peak is the resident-set
 * high-water mark (VmHWM in /proc/self/status): every page of the process
 * that was resident at once, model weights, arena, inputs, libraries and
 * the harness included. Linux lets a process reset it (writing "5" to
 * /proc/self/clear_refs), which makes it a per-configuration figure; where
 * that is refused it covers the process lifetime so far, as getrusage's
 * ru_maxrss always does. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "ia/bench.h"

int ia_bench_mem_reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    int ok = fputs("5", f) >= 0;
    ok = fclose(f) == 0 && ok;
    return ok;
}

/* "Key:   1234 kB" from /proc/self/status, in bytes; -1 when absent. */
static int64_t status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    size_t klen = strlen(key);
    int64_t v = -1;
    while (fgets(line, sizeof line, f)) {
        long long kb;
        if (!strncmp(line, key, klen) && line[klen] == ':' &&
            sscanf(line + klen + 1, "%lld", &kb) == 1 && kb >= 0) {
            v = (int64_t)kb * 1024;
            break;
        }
    }
    fclose(f);
    return v;
}

int64_t ia_bench_mem_peak_rss(void) {
    int64_t v = status_kb("VmHWM");
    if (v >= 0) return v;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0) return (int64_t)ru.ru_maxrss * 1024;
    return -1;
}

int64_t ia_bench_mem_rss(void) { return status_kb("VmRSS"); }
