/* Text buffer and number formatting shared by the report renderers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ia/core.h"
#include "report/report_internal.h"

static int reserve(struct rbuf *b, size_t extra) {
    if (b->failed) return 0;
    size_t need;
    if (ia_add_size(b->len, extra + 1, &need)) {
        b->failed = 1;
        return 0;
    }
    if (need <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (ia_mul_size(cap, 2, &cap)) {
            b->failed = 1;
            return 0;
        }
    }
    char *p = ia_realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

static void put_n(struct rbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void rb_puts(struct rbuf *b, const char *s) { put_n(b, s, strlen(s)); }

void rb_putf(struct rbuf *b, const char *fmt, ...) {
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        put_n(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void rb_html(struct rbuf *b, const char *s) {
    if (!s) return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&':
            rb_puts(b, "&amp;");
            break;
        case '<':
            rb_puts(b, "&lt;");
            break;
        case '>':
            rb_puts(b, "&gt;");
            break;
        case '"':
            rb_puts(b, "&quot;");
            break;
        case '\'':
            rb_puts(b, "&#39;");
            break;
        default:
            /* Control characters have no business in a page. */
            if ((unsigned char)*p < 0x20)
                put_n(b, " ", 1);
            else
                put_n(b, p, 1);
        }
    }
}

void rb_md(struct rbuf *b, const char *s) {
    if (!s) return;
    for (const char *p = s; *p; p++) {
        if (*p == '|' || *p == '\\' || *p == '`' || *p == '*' || *p == '_' || *p == '<') {
            put_n(b, "\\", 1);
            put_n(b, p, 1);
        } else if ((unsigned char)*p < 0x20) {
            put_n(b, " ", 1);
        } else {
            put_n(b, p, 1);
        }
    }
}

void rb_md_code(struct rbuf *b, const char *s) {
    if (!s) return;
    for (const char *p = s; *p; p++) {
        if (*p == '`')
            put_n(b, "'", 1);
        else if (*p == '|')
            put_n(b, "\\|", 2);
        else if ((unsigned char)*p < 0x20)
            put_n(b, " ", 1);
        else
            put_n(b, p, 1);
    }
}

const char *rp_ms(double v, char buf[32]) {
    if (!isfinite(v))
        snprintf(buf, 32, "n/a");
    else if (fabs(v) >= 100)
        snprintf(buf, 32, "%.1f", v);
    else if (fabs(v) >= 10)
        snprintf(buf, 32, "%.2f", v);
    else
        snprintf(buf, 32, "%.3f", v);
    return buf;
}

const char *rp_rate(double v, char buf[32]) {
    if (!isfinite(v))
        snprintf(buf, 32, "n/a");
    else if (fabs(v) >= 100)
        snprintf(buf, 32, "%.1f", v);
    else
        snprintf(buf, 32, "%.2f", v);
    return buf;
}

const char *rp_bytes(int64_t v, char buf[32]) {
    if (v < 0)
        snprintf(buf, 32, "n/a");
    else if (v >= (1ll << 30))
        snprintf(buf, 32, "%.2f GiB", (double)v / (double)(1ll << 30));
    else if (v >= (1ll << 20))
        snprintf(buf, 32, "%.1f MiB", (double)v / (double)(1ll << 20));
    else if (v >= 1024)
        snprintf(buf, 32, "%.1f KiB", (double)v / 1024.0);
    else
        snprintf(buf, 32, "%lld B", (long long)v);
    return buf;
}

const char *rp_count(int64_t v, char buf[32]) {
    if (v < 0)
        snprintf(buf, 32, "n/a");
    else if (v >= 1000000000ll)
        snprintf(buf, 32, "%.2f G", (double)v / 1e9);
    else if (v >= 1000000ll)
        snprintf(buf, 32, "%.2f M", (double)v / 1e6);
    else if (v >= 1000ll)
        snprintf(buf, 32, "%.1f k", (double)v / 1e3);
    else
        snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}
