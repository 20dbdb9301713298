/* Status strings and the per-thread error message. */
#include "ia/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
    [0] = "ok",
    [1] = "out of memory",
    [2] = "invalid argument",
    [3] = "I/O error",
    [4] = "not found",
    [5] = "data corrupt",
    [6] = "bad format",
    [7] = "unsupported",
    [8] = "out of range",
    [9] = "already exists",
    [10] = "no space left on device",
    [11] = "network error",
    [12] = "timed out",
    [13] = "canceled",
    [14] = "internal error",
    [15] = "value not known yet",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == 1 - IA_STATUS_MIN,
               "one name per status code");

const char *ia_status_str(int rc) {
    if (rc > 0 || rc < IA_STATUS_MIN) return "unknown status";
    return status_names[-rc];
}

/* The message buffer is per thread so library calls on different threads
 * never see each other's errors. */
static _Thread_local char err_buf[1024];
static _Thread_local int err_rc;

int ia_error_setv(int rc, const char *fmt, va_list ap) {
    err_rc = rc;
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    return rc;
}

int ia_error_set(int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ia_error_setv(rc, fmt, ap);
    va_end(ap);
    return rc;
}

int ia_error_wrap(int rc, const char *fmt, ...) {
    char prefix[512], old[sizeof err_buf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* ia_error_msg() may be a short status-name literal: copy by length. */
    snprintf(old, sizeof old, "%s", ia_error_msg());
    /* Truncating a long chain of context is fine: the start says most. */
    size_t n = strlen(prefix);
    memcpy(err_buf, prefix, n);
    size_t room = sizeof err_buf - n;
    if (room > 2) {
        err_buf[n] = ':';
        err_buf[n + 1] = ' ';
        size_t m = strlen(old);
        if (m > room - 3) m = room - 3;
        memcpy(err_buf + n + 2, old, m);
        err_buf[n + 2 + m] = '\0';
    } else {
        err_buf[sizeof err_buf - 1] = '\0';
    }
    err_rc = rc;
    return rc;
}

const char *ia_error_msg(void) {
    if (err_buf[0]) return err_buf;
    return ia_status_str(err_rc);
}

void ia_error_clear(void) {
    err_buf[0] = '\0';
    err_rc = IA_OK;
}

_Noreturn void ia_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "ipfs-accelerate: internal error: %s:%d: assertion '%s' failed\n",
            file, line, expr);
    abort();
}
