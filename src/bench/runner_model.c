/* Models for the runner: a MODEL argument (a path, a CID in the store, or
 * zoo:ARCH[-PRESET][+past]) resolved to a .onnx file, verified with the
 * engine's checks, loaded, and described for the database (CID, family,
 * synthetic weights, provenance).
 *
 * A CID becomes a file through ia_store_model_path (cache/models/<cid>/).
 * Zoo models are built once into a cache under $IA_HOME, atomically (built
 * in a temporary folder that is renamed into place, so a concurrent bench
 * or a killed one never leaves half a model where the next one looks):
 *   cache/zoo/<arch>-<preset>[-past]-v<converter>/model.onnx
 */
#include <ftw.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ia/bench.h"
#include "ia/cid.h"
#include "ia/core.h"
#include "ia/engine.h"
#include "ia/store.h"
#include "ia/zoo.h"

#define PATH_CAP 4096

/* snprintf that reports truncation as an error instead of cutting a path. */
static int pathf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int pathf(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < cap) return IA_OK;
    out[0] = '\0'; /* never leave a cut path for a caller to remove */
    return ia_error_set(IA_ERANGE, "path too long under %s", fmt);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st, (void)flag, (void)f;
    remove(p);
    return 0;
}
/* Removes a temporary folder of ours, whatever it holds. */
static void rm_tree(const char *path) {
    if (*path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_p(const char *dir) {
    char buf[PATH_CAP];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return ia_error_set(IA_ERANGE, "%s: path too long", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return ia_error_set(IA_EIO, "%s: cannot create: %s", buf, strerror(errno));
        buf[i] = c;
    }
    return IA_OK;
}

static int home_dir(const char *given, char *out, size_t cap) {
    const char *h = given ? given : getenv("IA_HOME");
    int n;
    if (h && *h) {
        n = snprintf(out, cap, "%s", h);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home) return ia_error_set(IA_ENOTFOUND, "neither IA_HOME nor HOME is set");
        n = snprintf(out, cap, "%s/.ipfs-accelerate", home);
    }
    return n > 0 && (size_t)n < cap ? IA_OK : ia_error_set(IA_ERANGE, "IA_HOME path too long");
}

/* ---- zoo:ARCH[-PRESET][+past] ------------------------------------------- */

static int resolve_zoo(const char *rest, const struct ia_bench_open_opts *o, char *path,
                       size_t cap, char *canon, size_t canon_cap) {
    char name[128];
    if (snprintf(name, sizeof name, "%s", rest) >= (int)sizeof name || !*name)
        return ia_error_set(IA_EINVAL, "zoo:%s: expected zoo:ARCH[-PRESET][+past]", rest);
    int with_past = 0;
    char *plus = strchr(name, '+');
    if (plus) {
        if (strcmp(plus, "+past"))
            return ia_error_set(IA_EINVAL, "zoo:%s: the only suffix is +past (a KV cache)", rest);
        *plus = '\0';
        with_past = 1;
    }
    const char *preset = "tiny";
    const struct ia_zoo_arch *a = ia_zoo_arch_find(name);
    char *dash = strrchr(name, '-');
    if (!a && dash) {
        *dash = '\0';
        a = ia_zoo_arch_find(name);
        preset = dash + 1;
    }
    if (!a) return ia_error_set(IA_EINVAL, "zoo:%s: unknown architecture (see `zoo list`)", rest);
    if (!a->implemented)
        return ia_error_set(IA_EUNSUPPORTED, "zoo:%s: the zoo does not build %s yet", rest, a->name);
    if (with_past && !a->supports_past)
        return ia_error_set(IA_EUNSUPPORTED, "zoo:%s: %s has no KV cache", rest, a->name);

    char home[PATH_CAP], dir[PATH_CAP], tmp[PATH_CAP] = "";
    /* One name per model, however it was spelled ("zoo:vit" = "zoo:vit-tiny"). */
    snprintf(canon, canon_cap, "zoo:%s-%.60s%s", a->name, preset, with_past ? "+past" : "");
    int rc = home_dir(o ? o->home : NULL, home, sizeof home);
    if (rc != IA_OK) return rc;
    if (snprintf(dir, sizeof dir, "%s/cache/zoo/%s-%s%s-v%s", home, a->name, preset,
                 with_past ? "-past" : "", IA_ZOO_CONVERTER_VERSION) >= (int)sizeof dir ||
        snprintf(path, cap, "%s/model.onnx", dir) >= (int)cap)
        return ia_error_set(IA_ERANGE, "IA_HOME path too long");
    struct stat st;
    if (stat(path, &st) == 0) return IA_OK; /* built before */

    struct ia_hf_config *cfg = NULL;
    rc = ia_zoo_preset_config(a, preset, &cfg);
    if (rc != IA_OK) return ia_error_wrap(rc, "zoo:%s", rest);
    char tmp_model[PATH_CAP];
    rc = pathf(tmp, sizeof tmp, "%s/cache/zoo/.tmp-%ld", home, (long)getpid());
    if (rc == IA_OK) rc = pathf(tmp_model, sizeof tmp_model, "%s/model.onnx", tmp);
    if (rc == IA_OK) rm_tree(tmp);
    if (rc == IA_OK) rc = mkdir_p(tmp);
    if (rc == IA_OK) {
        struct ia_zoo_opts zo = {.preset = preset, .build = {.with_past = with_past},
                                 .progress = o ? o->progress : NULL,
                                 .progress_user = o ? o->progress_user : NULL};
        struct ia_zoo_result res;
        rc = ia_zoo_build(a, cfg, &zo, tmp_model, &res);
        if (rc != IA_OK) ia_error_wrap(rc, "zoo:%s", rest);
    }
    ia_hf_config_free(cfg);
    /* Another bench may have finished the same build first: keep theirs. */
    if (rc == IA_OK && rename(tmp, dir) != 0 && stat(path, &st) != 0)
        rc = ia_error_set(IA_EIO, "%s: cannot move the built model into place: %s", dir,
                          strerror(errno));
    rm_tree(tmp);
    return rc;
}

/* ---- CIDs ------------------------------------------------------------------ */

static int resolve_cid(const struct ia_cid *cid, const struct ia_bench_open_opts *o, char *path,
                       size_t cap) {
    struct ia_store *s = NULL;
    int rc = ia_store_open(o ? o->home : NULL, &s);
    if (rc == IA_OK) rc = ia_store_model_path(s, cid, path, cap);
    ia_store_close(s);
    return rc;
}

/* ---- open ------------------------------------------------------------------ */

static const char *prop(const struct ia_model *m, const char *key) {
    for (size_t i = 0; i < m->n_props; i++)
        if (!strcmp(m->props[i].key, key)) return m->props[i].value;
    return NULL;
}

static char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = ia_strdup(b);
    size_t n = s ? strlen(s) : 0;
    if (n > 5 && !strcmp(s + n - 5, ".onnx")) s[n - 5] = '\0';
    return s;
}

static int verify_failed(const char *path, const struct ia_verify_report *r) {
    char msg[2048];
    size_t n = 0;
    msg[0] = '\0';
    for (int i = 0; i < IA_VERIFY_CHECK_COUNT && n < sizeof msg - 1; i++) {
        const struct ia_verify_check *c = &r->checks[i];
        if (c->status != IA_CHECK_FAIL) continue;
        for (size_t k = 0; k < c->n_reasons && n < sizeof msg - 1; k++)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", n ? "; " : "", c->reasons[k]);
        if (!c->n_reasons && n < sizeof msg - 1)
            n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s check failed", n ? "; " : "",
                                  c->name);
    }
    return ia_error_set(IA_EFORMAT, "%s: fails verification: %s", path, msg);
}

void ia_bench_model_close(struct ia_bench_model *bm) {
    if (!bm) return;
    ia_model_free(bm->m);
    ia_free(bm->spec);
    ia_free(bm->path);
    ia_free(bm->name);
    ia_free(bm->cid);
    ia_free(bm->family);
    ia_free(bm->provenance_json);
    ia_free(bm);
}

static char *provenance(const char *source, const struct ia_bench_model *bm) {
    json_t *j = json_object(), *meta = json_object();
    static const char *const keys[] = {"weights", "arch", "preset", "converter",
                                       "converter_version", "source_cid", "seed",
                                       "hf_architecture", NULL};
    for (const char *const *k = keys; *k; k++) {
        const char *v = prop(bm->m, *k);
        if (v) json_object_set_new(meta, *k, json_string(v));
    }
    json_object_set_new(j, "source", json_string(source));
    json_object_set_new(j, "spec", json_string(bm->spec));
    json_object_set_new(j, "path", json_string(bm->path));
    if (*bm->m->producer_name)
        json_object_set_new(j, "producer", json_sprintf("%s %s", bm->m->producer_name,
                                                        bm->m->producer_version));
    json_object_set_new(j, "metadata", meta);
    char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    char *out = txt ? ia_strdup(txt) : NULL;
    free(txt);
    return out;
}

int ia_bench_model_open(const char *spec, const struct ia_bench_open_opts *o,
                        struct ia_bench_model **out) {
    *out = NULL;
    char path[PATH_CAP], canon[128] = "";
    const char *source;
    struct ia_cid cid;
    struct stat st;
    int rc;
    if (!strncmp(spec, "zoo:", 4)) {
        source = "zoo";
        rc = resolve_zoo(spec + 4, o, path, sizeof path, canon, sizeof canon);
    } else if (stat(spec, &st) == 0) {
        source = "file";
        rc = snprintf(path, sizeof path, "%s", spec) < (int)sizeof path
                 ? IA_OK
                 : ia_error_set(IA_ERANGE, "%s: path too long", spec);
    } else if (!strchr(spec, '/') && ia_cid_parse(spec, &cid) == IA_OK) {
        source = "store";
        rc = resolve_cid(&cid, o, path, sizeof path);
    } else {
        return ia_error_set(IA_ENOTFOUND, "%s: no such file, and not a CID or zoo:ARCH", spec);
    }
    if (rc != IA_OK) return rc;

    struct ia_verify_report rep;
    rc = ia_onnx_verify_file(path, ia_engine_verify_opts(), &rep, NULL);
    if (rc != IA_OK) {
        ia_verify_report_free(&rep);
        return ia_error_wrap(rc, "%s", path);
    }
    if (!rep.ok) {
        rc = verify_failed(path, &rep);
        ia_verify_report_free(&rep);
        return rc;
    }
    struct ia_bench_model *bm = ia_calloc(1, sizeof *bm);
    if (!bm) {
        ia_verify_report_free(&rep);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    bm->n_params = rep.n_params;
    bm->weight_bytes = rep.weight_bytes;
    ia_verify_report_free(&rep);

    /* Verify loads with KEEP_GOING (not for running): load again, timed. */
    double t0 = ia_time_now();
    rc = ia_onnx_load(path, &bm->m);
    bm->load_ms = (ia_time_now() - t0) * 1e3;
    bm->spec = ia_strdup(spec);
    bm->path = ia_strdup(path);
    if (rc == IA_OK && (!bm->spec || !bm->path)) rc = ia_error_set(IA_ENOMEM, "out of memory");
    if (rc == IA_OK) {
        struct ia_import_opts io = {0};
        struct ia_cid fc;
        char txt[IA_CID_STR_MAX];
        rc = ia_import_profile_get("default", &io.profile);
        if (rc == IA_OK) rc = ia_import_path(&io, path, 0, &fc);
        if (rc == IA_OK) {
            ia_cid_format(&fc, txt);
            bm->cid = ia_strdup(txt);
        } else {
            ia_error_wrap(rc, "%s: hashing the model", path);
        }
    }
    if (rc == IA_OK) {
        const char *arch = prop(bm->m, "arch"), *weights = prop(bm->m, "weights");
        bm->family = ia_strdup(arch ? arch : "unknown");
        bm->synthetic = weights && !strcmp(weights, "synthetic");
        bm->converted = weights && !strcmp(weights, "checkpoint") && prop(bm->m, "converter");
        if (!strcmp(source, "zoo")) bm->name = ia_strdup(canon);
        else if (!strcmp(source, "store")) bm->name = ia_strdup(spec);
        else bm->name = base_name(path);
        bm->provenance_json = provenance(source, bm);
        if (!bm->family || !bm->name || !bm->provenance_json || !bm->cid)
            rc = ia_error_set(IA_ENOMEM, "out of memory");
        ia_bench_detect_decoder(bm->m, &bm->dec);
    }
    if (rc != IA_OK) {
        ia_bench_model_close(bm);
        return rc;
    }
    *out = bm;
    return IA_OK;
}
