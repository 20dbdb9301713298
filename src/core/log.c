/* Levelled logging to stderr; the CLI sets the level from -v/-q/IA_LOG. */
#include "ia/core.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int log_level = IA_LOG_WARN;

void ia_log_set_level(enum ia_log_level level) { atomic_store(&log_level, (int)level); }

enum ia_log_level ia_log_get_level(void) { return (enum ia_log_level)atomic_load(&log_level); }

void ia_log_init_from_env(void) {
    static const char *const names[] = {"error", "warn", "info", "debug"};
    const char *v = getenv("IA_LOG");
    if (!v) return;
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) ia_log_set_level((enum ia_log_level)i);
}

void ia_log(enum ia_log_level level, const char *fmt, ...) {
    static const char *const tags[] = {"error", "warning", "info", "debug"};
    if ((int)level > atomic_load(&log_level)) return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from different threads do not mix. */
    fprintf(stderr, "ipfs-accelerate: %s: %s\n", tags[level], line);
}
