/*
 * Building a model file from an architecture, and converting HF checkpoint
 * folders (with a cache in the store).
 *
 * Cache record: $IA_HOME/cache/zoo/<sha256 hex of the key>.json =
 *   {"key": KEY, "model": CID, "data": CID|null, "data_location": NAME|null,
 *    "arch": ..., "architecture": ..., "n_params": N, "weight_bytes": N}
 * KEY = "zoo-convert\n<source CID>\n<converter version>\n<options>". The
 * model (and its external data file) are stored as UnixFS files and pinned.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "ia/cid.h"
#include "ia/store.h"
#include "ia/tensor_io.h"
#include "zoo_internal.h"

#define GiB (1024.0 * 1024.0 * 1024.0)
/* Inline weights above this go external: protobuf's 2 GiB limit less room
 * for the graph itself. */
#define DEFAULT_EXTERNAL_THRESHOLD (IA_ONNX_MAX_FILE_BYTES - ((uint64_t)64 << 20))

/* MemAvailable from /proc/meminfo in bytes; 0 when unknown. */
static uint64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
    fclose(f);
    return (uint64_t)kb * 1024;
}

/* This process's umask, read without changing it; 022 when unknown. */
static mode_t process_umask(void) {
    FILE *f = fopen("/proc/self/status", "r");
    unsigned m = 022;
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &m) == 1) break;
    if (f) fclose(f);
    return (mode_t)m;
}

static void split_path(const char *path, char *dir, size_t dcap, char *base, size_t bcap) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, dcap, ".");
        snprintf(base, bcap, "%s", path);
    } else {
        snprintf(dir, dcap, "%.*s", (int)(slash - path) ? (int)(slash - path) : 1, path);
        snprintf(base, bcap, "%s", slash + 1);
    }
}

int ia_zoo_build(const struct ia_zoo_arch *arch, const struct ia_hf_config *cfg,
                 const struct ia_zoo_opts *opts, const char *path, struct ia_zoo_result *res) {
    memset(res, 0, sizeof *res);
    if (!arch->implemented || !arch->build)
        return ia_error_set(IA_EUNSUPPORTED, "%s is not built by the zoo yet", arch->name);
    struct ia_zoo_opts none = {0};
    if (!opts) opts = &none;
    if (opts->build.with_past && !arch->supports_past)
        return ia_error_set(IA_EUNSUPPORTED, "%s has no KV cache (--with-past is for decoders)",
                            arch->name);

    /* Size the weights first (and check a checkpoint's names and shapes)
     * without making any. */
    struct ia_zb_opts zo = {.ckpt = opts->ckpt, .seed = opts->seed, .dry_run = 1};
    struct ia_zb *g;
    int rc = ia_zb_create(&zo, &g);
    if (rc) return rc;
    rc = arch->build(g, cfg, &opts->build);
    if (!rc) rc = ia_zb_status(g);
    if (rc) rc = ia_error_set(rc, "%s", ia_zb_errmsg(g));
    uint64_t bytes = ia_zb_weight_bytes(g);
    ia_zb_destroy(g);
    if (rc) return rc;

    char dir[4096], base[1024], ext_path[4096 + 1100];
    split_path(path, dir, sizeof dir, base, sizeof base);
    uint64_t thr = opts->external_threshold ? opts->external_threshold
                                            : DEFAULT_EXTERNAL_THRESHOLD;
    int external = thr == 1 ? bytes > 0 : bytes > thr;
    if (external) {
        if (strlen(base) + 6 > sizeof res->data_file)
            return ia_error_set(IA_EINVAL, "%s: file name too long for external data", path);
        size_t bl = strlen(base);
        memcpy(res->data_file, base, bl);
        memcpy(res->data_file + bl, ".data", 6);
        snprintf(ext_path, sizeof ext_path, "%s/%s", dir, res->data_file);
        struct statvfs vs;
        if (statvfs(dir, &vs) == 0) {
            uint64_t avail = (uint64_t)vs.f_bavail * vs.f_frsize;
            if (avail < bytes + ((uint64_t)64 << 20))
                return ia_error_set(IA_ENOSPC, "%s: the weights need %.2f GiB on disk but %s has "
                                    "%.2f GiB free", path, bytes / GiB, dir, avail / GiB);
        }
    } else {
        uint64_t avail = mem_available();
        if (avail && avail < bytes + bytes / 8 + ((uint64_t)256 << 20))
            return ia_error_set(IA_ENOMEM, "%s: building needs about %.2f GiB of memory but "
                                "%.2f GiB is available", path, (bytes + bytes / 8) / GiB,
                                avail / GiB);
    }

    zo.dry_run = 0;
    zo.external_path = external ? ext_path : NULL;
    zo.external_location = external ? res->data_file : NULL;
    zo.progress = opts->progress;
    zo.progress_user = opts->progress_user;
    zo.progress_total = bytes;
    rc = ia_zb_create(&zo, &g);
    if (rc) return rc;
    struct ia_onnx_builder *b = ia_zb_builder(g);
    char *cfg_json = ia_hf_config_dump(cfg);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)opts->seed);
    const char *hfa = ia_hf_config_architecture(cfg);
    if (!cfg_json) rc = ia_error_set(IA_ENOMEM, "out of memory");
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "weights", opts->ckpt ? "checkpoint" : "synthetic");
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "arch", arch->name);
    if (!rc && opts->preset) rc = ia_onnx_builder_add_metadata(b, "preset", opts->preset);
    if (!rc && hfa) rc = ia_onnx_builder_add_metadata(b, "hf_architecture", hfa);
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "converter", "ipfs-accelerate zoo");
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "converter_version", IA_ZOO_CONVERTER_VERSION);
    if (!rc && opts->source_cid) rc = ia_onnx_builder_add_metadata(b, "source_cid", opts->source_cid);
    if (!rc && !opts->ckpt) rc = ia_onnx_builder_add_metadata(b, "seed", seed);
    if (!rc) rc = ia_onnx_builder_add_metadata(b, "hf_config", cfg_json);
    ia_free(cfg_json);
    if (!rc) {
        rc = arch->build(g, cfg, &opts->build);
        if (!rc) rc = ia_zb_status(g);
        if (rc) rc = ia_error_set(rc, "%s", ia_zb_errmsg(g));
    }
    if (!rc) rc = ia_zb_write(g, path);
    /* The ONNX writer's temp file is created 0600; a model is a normal file. */
    if (!rc) chmod(path, 0666 & ~process_umask());
    res->n_params = ia_zb_n_params(g);
    res->weight_bytes = ia_zb_weight_bytes(g);
    res->external = external;
    ia_zb_destroy(g);
    if (rc && external) unlink(ext_path);
    return rc;
}

/* ---- convert with a cache ------------------------------------------------------ */

static void hex(const uint8_t *d, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static int mkdir_one(const char *p) {
    if (mkdir(p, 0755) == 0 || errno == EEXIST) return IA_OK;
    return ia_error_set(IA_EIO, "%s: %s", p, strerror(errno));
}

/* Copies a stored file to `dest` (through a temp name, renamed). */
static int restore(struct ia_store *s, const char *cid_str, const char *dest) {
    struct ia_cid cid;
    if (ia_cid_parse(cid_str, &cid) || !ia_store_has(s, &cid))
        return IA_ENOTFOUND;
    size_t n = strlen(dest) + 32;
    char *tmp = ia_malloc(n);
    if (!tmp) return ia_error_set(IA_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.restore.%ld", dest, (long)getpid());
    unlink(tmp);
    int rc = ia_store_get_path(s, &cid, tmp);
    if (rc == IA_OK && rename(tmp, dest) != 0)
        rc = ia_error_set(IA_EIO, "%s: %s", dest, strerror(errno));
    if (rc) unlink(tmp);
    ia_free(tmp);
    return rc;
}

static int store_file(struct ia_store *s, const char *path, char *cid_out, size_t cap) {
    struct ia_import_opts io;
    memset(&io, 0, sizeof io);
    int rc = ia_import_profile_get("default", &io.profile);
    io.put = ia_store_put_cb;
    io.put_user = s;
    struct ia_cid cid;
    if (!rc) rc = ia_import_path(&io, path, 0, &cid);
    if (!rc) rc = ia_store_pin_add(s, &cid);
    char str[IA_CID_STR_MAX];
    if (!rc) rc = ia_cid_format(&cid, str);
    if (!rc) snprintf(cid_out, cap, "%s", str);
    return rc;
}

int ia_zoo_convert(const char *hf_dir, const char *out_path, const struct ia_zoo_convert_opts *o,
                   struct ia_zoo_convert_result *r) {
    memset(r, 0, sizeof *r);
    struct ia_zoo_convert_opts none = {0};
    if (!o) o = &none;
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", hf_dir);
    struct ia_hf_config *cfg = NULL;
    struct ia_hf_checkpoint *ck = NULL;
    json_t *rec = NULL;
    int rc = ia_hf_config_load(path, &cfg);
    const struct ia_zoo_arch *arch = NULL;
    if (!rc) {
        arch = ia_zoo_arch_for_config(cfg);
        if (!arch) rc = IA_EUNSUPPORTED;
    }
    if (!rc) {
        r->arch = arch->name;
        const char *a = ia_hf_config_architecture(cfg);
        snprintf(r->architecture, sizeof r->architecture, "%s", a ? a : "");
        if (o->build.with_past && !arch->supports_past)
            rc = ia_error_set(IA_EUNSUPPORTED, "%s has no KV cache (--with-past is for decoders)",
                              arch->name);
    }
    if (!rc) rc = ia_hf_checkpoint_open(hf_dir, &ck);

    /* The source CID: the folder as `add -r --only-hash` would name it. */
    if (!rc) {
        struct ia_import_opts io;
        memset(&io, 0, sizeof io);
        rc = ia_import_profile_get("default", &io.profile);
        struct ia_cid cid;
        char str[IA_CID_STR_MAX];
        if (!rc) rc = ia_import_path(&io, hf_dir, 1, &cid);
        if (!rc) rc = ia_cid_format(&cid, str);
        if (!rc) snprintf(r->source_cid, sizeof r->source_cid, "%s", str);
        if (rc) rc = ia_error_wrap(rc, "%s: hashing the checkpoint", hf_dir);
    }

    char key[512], keyhex[2 * 32 + 1], cache_path[4096 + 128];
    char dir[4096], base[1024], data_path[4096 + 1100];
    split_path(out_path, dir, sizeof dir, base, sizeof base);
    snprintf(key, sizeof key, "zoo-convert\n%s\n%s\nwith_past=%d\nexternal_threshold=%llu",
             r->source_cid, IA_ZOO_CONVERTER_VERSION, o->build.with_past,
             (unsigned long long)o->external_threshold);
    struct ia_multihash mh;
    ia_mh_sha256((const uint8_t *)key, strlen(key), &mh);
    hex(mh.digest, 32, keyhex);
    if (!rc && o->store) {
        const char *home = ia_store_home(o->store);
        snprintf(cache_path, sizeof cache_path, "%s/cache", home);
        rc = mkdir_one(cache_path);
        snprintf(cache_path, sizeof cache_path, "%s/cache/zoo", home);
        if (!rc) rc = mkdir_one(cache_path);
        snprintf(cache_path, sizeof cache_path, "%s/cache/zoo/%s.json", home, keyhex);
    }

    /* A cache hit: the stored model, byte for byte. */
    if (!rc && o->store && (rec = json_load_file(cache_path, 0, NULL)) != NULL) {
        const char *model = json_string_value(json_object_get(rec, "model"));
        const char *data = json_string_value(json_object_get(rec, "data"));
        const char *loc = json_string_value(json_object_get(rec, "data_location"));
        char want_loc[1100];
        snprintf(want_loc, sizeof want_loc, "%s.data", base);
        int usable = model && (!data || (loc && !strcmp(loc, want_loc)));
        if (usable && data) {
            snprintf(data_path, sizeof data_path, "%s/%s", dir, loc);
            usable = restore(o->store, data, data_path) == IA_OK;
        }
        if (usable && restore(o->store, model, out_path) == IA_OK) {
            r->cached = 1;
            snprintf(r->model_cid, sizeof r->model_cid, "%s", model);
            r->build.n_params = (uint64_t)json_integer_value(json_object_get(rec, "n_params"));
            r->build.weight_bytes =
                (uint64_t)json_integer_value(json_object_get(rec, "weight_bytes"));
            r->build.external = data != NULL;
            if (data) snprintf(r->build.data_file, sizeof r->build.data_file, "%s", loc);
            r->n_ckpt_tensors = ia_hf_checkpoint_n_tensors(ck);
            json_decref(rec);
            ia_hf_checkpoint_close(ck);
            ia_hf_config_free(cfg);
            return IA_OK;
        }
        json_decref(rec);
        rec = NULL;
        ia_error_clear();
    }

    if (!rc) {
        struct ia_zoo_opts zo = {.ckpt = ck, .source_cid = r->source_cid, .build = o->build,
                                 .external_threshold = o->external_threshold,
                                 .progress = o->progress, .progress_user = o->progress_user};
        rc = ia_zoo_build(arch, cfg, &zo, out_path, &r->build);
    }
    if (!rc) {
        r->n_ckpt_tensors = ia_hf_checkpoint_n_tensors(ck);
        r->n_unused = r->n_ckpt_tensors - ia_hf_checkpoint_n_used(ck);
        size_t idx;
        const char *u = ia_hf_checkpoint_next_unused(ck, 0, &idx);
        if (u) snprintf(r->first_unused, sizeof r->first_unused, "%s", u);
    }
    if (r->build.external) snprintf(data_path, sizeof data_path, "%s/%s", dir, r->build.data_file);
    if (!rc && o->check) {
        rc = o->check(o->check_user, out_path);
        if (rc) {
            rc = ia_error_wrap(rc, "%s: self-check failed", out_path);
            unlink(out_path);
            if (r->build.external) unlink(data_path);
        }
    }
    if (!rc && o->store) {
        char data_cid[256] = "";
        rc = store_file(o->store, out_path, r->model_cid, sizeof r->model_cid);
        if (!rc && r->build.external) rc = store_file(o->store, data_path, data_cid, sizeof data_cid);
        if (!rc) {
            rec = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:I}", "key", key, "model",
                            r->model_cid, "data",
                            r->build.external ? json_string(data_cid) : json_null(),
                            "data_location",
                            r->build.external ? json_string(r->build.data_file) : json_null(),
                            "arch", r->arch, "architecture", r->architecture, "n_params",
                            (json_int_t)r->build.n_params, "weight_bytes",
                            (json_int_t)r->build.weight_bytes);
            struct zoo_tmpfile tf;
            if (!rec) rc = ia_error_set(IA_ENOMEM, "out of memory");
            if (!rc) rc = zoo_tmp_open(&tf, cache_path);
            if (!rc) {
                if (json_dumpf(rec, tf.f, JSON_INDENT(1)) != 0) {
                    zoo_tmp_abort(&tf);
                    rc = ia_error_set(IA_EIO, "%s: write failed", cache_path);
                } else {
                    rc = zoo_tmp_commit(&tf);
                }
            }
        }
        if (rc) rc = ia_error_wrap(rc, "storing the converted model");
    }
    if (rec) json_decref(rec);
    ia_hf_checkpoint_close(ck);
    ia_hf_config_free(cfg);
    return rc;
}

/* ---- sample inputs ------------------------------------------------------------- */

static int is_initializer(const struct ia_model *m, const char *name) {
    for (size_t i = 0; i < m->graph.n_initializers; i++)
        if (!strcmp(m->graph.initializers[i].name, name)) return 1;
    return 0;
}

int ia_zoo_sample_inputs(const struct ia_model *m, const struct ia_zoo_sample_opts *o,
                         struct ia_tensor ***tensors, size_t *n) {
    *tensors = NULL;
    *n = 0;
    int64_t batch = o && o->batch > 0 ? o->batch : 1, seq = o && o->seq > 0 ? o->seq : 8,
            past = o && o->past > 0 ? o->past : 0;
    const struct ia_onnx_graph *gr = &m->graph;
    struct ia_tensor **out = ia_calloc(gr->n_inputs ? gr->n_inputs : 1, sizeof *out);
    if (!out) return ia_error_set(IA_ENOMEM, "out of memory");
    size_t k = 0;
    int rc = IA_OK;
    for (size_t i = 0; i < gr->n_inputs && rc == IA_OK; i++) {
        const struct ia_onnx_value *v = &gr->inputs[i];
        if (is_initializer(m, v->name)) continue;
        if (!v->is_tensor || !v->has_shape || v->rank > 8) {
            rc = ia_error_set(IA_EUNSUPPORTED, "input '%s': no tensor shape to fill", v->name);
            break;
        }
        int64_t dims[8];
        for (size_t d = 0; d < v->rank; d++) {
            const struct ia_onnx_dim *dd = &v->dims[d];
            if (dd->value >= 0) dims[d] = dd->value;
            else if (!dd->param) dims[d] = 1;
            else if (!strcmp(dd->param, "batch_size")) dims[d] = batch;
            /* Raw audio (input_values): a conv feature stack needs at least
             * its receptive field, so never under a second at 16 kHz. */
            else if (!strcmp(dd->param, "sequence_length"))
                dims[d] = !strcmp(v->name, "input_values") && seq < 16000 ? 16000 : seq;
            else if (!strcmp(dd->param, "decoder_sequence_length")) dims[d] = seq;
            else if (!strcmp(dd->param, "past_sequence_length")) dims[d] = past;
            else if (!strcmp(dd->param, "past_sequence_length + sequence_length"))
                dims[d] = past + seq;
            else dims[d] = 1;
        }
        struct ia_tensor *t;
        rc = ia_tensor_io_alloc(v->dtype, (int)v->rank, dims, v->name, &t);
        if (rc) break;
        out[k++] = t;
        int64_t last = v->rank ? dims[v->rank - 1] : 1;
        for (uint64_t e = 0; e < t->numel; e++) {
            int64_t col = last ? (int64_t)(e % (uint64_t)last) : 0;
            if (v->dtype == IA_DTYPE_INT64) {
                int64_t val;
                if (!strcmp(v->name, "attention_mask")) val = 1;
                else if (!strcmp(v->name, "token_type_ids")) val = 0;
                else if (!strcmp(v->name, "position_ids")) val = past + col;
                else val = (int64_t)((e * 37 + 11) % 99) + 1;
                ((int64_t *)t->data)[e] = val;
            } else if (v->dtype == IA_DTYPE_FLOAT32) {
                float val = !strncmp(v->name, "past_key_values.", 16)
                                ? 0.0f
                                : (float)sin((double)e * 0.37) * 0.9f;
                ((float *)t->data)[e] = val;
            } else if (v->dtype == IA_DTYPE_INT32) {
                ((int32_t *)t->data)[e] = (int32_t)((e * 37 + 11) % 99) + 1;
            }
        }
    }
    if (rc) {
        for (size_t i = 0; i < k; i++) ia_tensor_io_free(out[i]);
        ia_free(out);
        return rc;
    }
    *tensors = out;
    *n = k;
    return IA_OK;
}
