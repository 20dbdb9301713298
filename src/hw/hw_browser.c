/* Is a headless browser for the WebNN/WebGPU benchmarks installed? Looks
 * the names up on $PATH like a shell would, and never starts anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hw/hw_internal.h"

/* When $PATH is unset, the usual system directories (as execvp does). */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* Finds the first executable regular file called `name` in the PATH list.
 * Empty entries (which mean "." to a shell) are skipped: the current
 * folder is not where an installed browser lives. */
static int find_in_path(const char *path_env, const char *name, char *out, size_t cap) {
    char cand[4096];
    if (cap > sizeof cand) cap = sizeof cand;
    const char *p = path_env;
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t dir_len = colon ? (size_t)(colon - p) : strlen(p);
        if (dir_len > 0 && dir_len < cap) { /* longer cannot fit `out` anyway */
            int n = snprintf(cand, cap, "%.*s/%s", (int)dir_len, p, name);
            struct stat st;
            if (n > 0 && (size_t)n < cap && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
                access(cand, X_OK) == 0) {
                memcpy(out, cand, (size_t)n + 1); /* only the answer, no scratch */
                return 1;
            }
        }
        if (!colon) break;
        p = colon + 1;
    }
    return 0;
}

static void find_first(const char *path_env, const char *const *names, char *out, size_t cap) {
    out[0] = '\0';
    for (; *names; names++)
        if (find_in_path(path_env, *names, out, cap)) return;
}

void ia_hw_detect_browsers(struct ia_hw_info *hw) {
    static const char *const chromium[] = {"chromium", "chromium-browser", "google-chrome",
                                           "google-chrome-stable", NULL};
    static const char *const chromedriver[] = {"chromedriver", NULL};
    const char *path_env = getenv("PATH");
    if (!path_env) path_env = DEFAULT_PATH;
    find_first(path_env, chromium, hw->chromium_path, sizeof hw->chromium_path);
    find_first(path_env, chromedriver, hw->chromedriver_path, sizeof hw->chromedriver_path);
}
