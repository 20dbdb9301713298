/* ia_report_render: build the data model once, hand it to a renderer. */
#include <string.h>

#include "ia/core.h"
#include "report/report_internal.h"

int ia_report_format_parse(const char *name, enum ia_report_format *out) {
    if (name && (!strcmp(name, "md") || !strcmp(name, "markdown")))
        *out = IA_REPORT_MD;
    else if (name && !strcmp(name, "html"))
        *out = IA_REPORT_HTML;
    else if (name && !strcmp(name, "json"))
        *out = IA_REPORT_JSON;
    else
        return ia_error_set(IA_EINVAL, "unknown report format '%s' (md, html or json)",
                            name ? name : "");
    return IA_OK;
}

int ia_report_render(struct ia_db *db, const struct ia_report_options *opt, char **out,
                     size_t *len) {
    *out = NULL;
    *len = 0;
    if (opt->format != IA_REPORT_MD && opt->format != IA_REPORT_HTML &&
        opt->format != IA_REPORT_JSON)
        return ia_error_set(IA_EINVAL, "report: bad format %d", (int)opt->format);
    struct rp_report r;
    struct rbuf b = {0};
    int rc = rp_build(db, opt, &r);
    if (rc == IA_OK) {
        if (opt->format == IA_REPORT_MD)
            rp_render_md(&r, &b);
        else if (opt->format == IA_REPORT_HTML)
            rp_render_html(&r, &b);
        else
            rc = rp_render_json(&r, &b);
    }
    rp_free(&r);
    if (rc == IA_OK && (b.failed || !b.p)) rc = ia_error_set(IA_ENOMEM, "report: out of memory");
    if (rc != IA_OK) {
        ia_free(b.p);
        return rc;
    }
    *out = b.p;
    *len = b.len;
    return IA_OK;
}
