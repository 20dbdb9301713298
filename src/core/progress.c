/* A one-line progress bar with rate and ETA, drawn on stderr when it is a
 * terminal. Redraws at most 10 times a second. */
#include "ia/core.h"

#include <stdio.h>
#include <unistd.h>

void ia_progress_start(struct ia_progress *p, const char *label, int is_bytes, int quiet) {
    p->label = label;
    p->is_bytes = is_bytes;
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start_s = ia_time_now();
    p->last_draw_s = 0;
    p->done = p->total = 0;
}

static void draw(struct ia_progress *p, double now) {
    double elapsed = now - p->start_s;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char amount[64], speed[32], eta[32] = "";
    if (p->is_bytes) {
        snprintf(amount, sizeof amount, "%.1f/%.1f MiB", p->done / 1048576.0, p->total / 1048576.0);
        snprintf(speed, sizeof speed, "%.1f MiB/s", rate / 1048576.0);
    } else {
        snprintf(amount, sizeof amount, "%llu/%llu", (unsigned long long)p->done,
                 (unsigned long long)p->total);
        snprintf(speed, sizeof speed, "%.1f/s", rate);
    }
    int pct = p->total ? (int)(100.0 * (double)p->done / (double)p->total) : 0;
    if (rate > 0 && p->total > p->done)
        snprintf(eta, sizeof eta, " ETA %.0fs", (double)(p->total - p->done) / rate);
    char bar[21];
    int filled = pct / 5;
    for (int i = 0; i < 20; i++) bar[i] = i < filled ? '#' : '.';
    bar[20] = '\0';
    fprintf(stderr, "\r%s [%s] %3d%% %s %s%s\033[K", p->label, bar, pct, amount, speed, eta);
    fflush(stderr);
}

void ia_progress_update(void *progress, uint64_t done, uint64_t total) {
    struct ia_progress *p = progress;
    if (!p) return;
    p->done = done;
    p->total = total;
    if (!p->enabled) return;
    double now = ia_time_now();
    if (now - p->last_draw_s < 0.1) return;
    p->last_draw_s = now;
    draw(p, now);
}

void ia_progress_finish(struct ia_progress *p) {
    if (!p->enabled) return;
    draw(p, ia_time_now());
    fputc('\n', stderr);
}
