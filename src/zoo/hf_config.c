/*
 * Hugging Face config.json and checkpoint folders.
 *
 * config.json: one JSON object of model hyper-parameters (hidden_size,
 * num_attention_heads, ...), at most 16 MiB. Keys are read with typed
 * getters so a wrong type is an error naming the key, never a silent 0.
 *
 * Checkpoint folder: either model.safetensors, or a sharded checkpoint:
 * model.safetensors.index.json = {"metadata": {...}, "weight_map":
 * {"tensor name": "shard file name", ...}}. Shard names must be plain file
 * names inside the folder (no '/', not "." or ".."); each shard is opened
 * once and validated, and every tensor the map names must be in its shard.
 * At most 4096 shards.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "zoo_internal.h"

#define HF_CONFIG_MAX_BYTES (16u << 20)
#define HF_MAX_SHARDS 4096

struct ia_hf_config {
    json_t *root;
    char *label;
};

static int config_from_json(json_t *root, const char *label, struct ia_hf_config **out) {
    struct ia_hf_config *c = ia_calloc(1, sizeof *c);
    char *l = ia_strdup(label);
    if (!c || !l) {
        ia_free(c);
        ia_free(l);
        json_decref(root);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    c->root = root;
    c->label = l;
    *out = c;
    return IA_OK;
}

int ia_hf_config_parse(const char *json, size_t len, const char *label,
                       struct ia_hf_config **out) {
    *out = NULL;
    if (len > HF_CONFIG_MAX_BYTES)
        return ia_error_set(IA_ERANGE, "%s: %zu bytes, over the %u-byte limit for a config", label,
                            len, HF_CONFIG_MAX_BYTES);
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return ia_error_set(IA_EFORMAT, "%s: not valid JSON: %s (line %d)", label, err.text,
                            err.line);
    if (!json_is_object(root)) {
        json_decref(root);
        return ia_error_set(IA_EFORMAT, "%s: not a JSON object", label);
    }
    return config_from_json(root, label, out);
}

/* Reads a whole small file into a new buffer (NUL-terminated). */
static int read_small_file(const char *path, size_t max, char **buf, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return ia_error_set(e == ENOENT ? IA_ENOTFOUND : IA_EIO, "%s: %s", path, strerror(e));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ia_error_set(IA_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max) {
        fclose(f);
        return ia_error_set(IA_ERANGE, "%s: %lld bytes, over the limit of %zu", path,
                            (long long)sb.st_size, max);
    }
    size_t n = (size_t)sb.st_size;
    char *b = ia_malloc(n + 1);
    if (!b) {
        fclose(f);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    size_t got = fread(b, 1, n, f);
    fclose(f);
    if (got != n) {
        ia_free(b);
        return ia_error_set(IA_EIO, "%s: short read", path);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return IA_OK;
}

int ia_hf_config_load(const char *path, struct ia_hf_config **out) {
    *out = NULL;
    char *buf;
    size_t len;
    int rc = read_small_file(path, HF_CONFIG_MAX_BYTES, &buf, &len);
    if (rc) return rc;
    rc = ia_hf_config_parse(buf, len, path, out);
    ia_free(buf);
    return rc;
}

int ia_hf_config_clone(const struct ia_hf_config *c, struct ia_hf_config **out) {
    json_t *r = json_deep_copy(c->root);
    if (!r) return ia_error_set(IA_ENOMEM, "out of memory");
    return config_from_json(r, c->label, out);
}

void ia_hf_config_free(struct ia_hf_config *c) {
    if (!c) return;
    json_decref(c->root);
    ia_free(c->label);
    ia_free(c);
}

const char *ia_hf_config_label(const struct ia_hf_config *c) { return c->label; }

int ia_hf_config_set(struct ia_hf_config *c, const char *key, const char *value) {
    if (!key || !*key) return ia_error_set(IA_EINVAL, "empty config key");
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    if (!v) v = json_string(value);
    if (!v || json_object_set_new(c->root, key, v))
        return ia_error_set(IA_ENOMEM, "out of memory");
    return IA_OK;
}

static json_t *get(const struct ia_hf_config *c, const char *key) {
    json_t *v = json_object_get(c->root, key);
    return json_is_null(v) ? NULL : v;
}

int ia_hf_config_has(const struct ia_hf_config *c, const char *key) { return get(c, key) != NULL; }

static int missing(const struct ia_hf_config *c, const char *key) {
    return ia_error_set(IA_ENOTFOUND, "%s: missing key '%s'", c->label, key);
}

int ia_hf_config_int_or(const struct ia_hf_config *c, const char *key, int64_t dflt,
                        int64_t *out) {
    json_t *v = get(c, key);
    if (!v) {
        *out = dflt;
        return IA_OK;
    }
    if (json_is_real(v) && json_real_value(v) == (double)(int64_t)json_real_value(v)) {
        *out = (int64_t)json_real_value(v);
        return IA_OK;
    }
    if (!json_is_integer(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not an integer", c->label, key);
    *out = json_integer_value(v);
    return IA_OK;
}

int ia_hf_config_int(const struct ia_hf_config *c, const char *key, int64_t *out) {
    if (!get(c, key)) return missing(c, key);
    return ia_hf_config_int_or(c, key, 0, out);
}

int ia_hf_config_float_or(const struct ia_hf_config *c, const char *key, double dflt,
                          double *out) {
    json_t *v = get(c, key);
    if (!v) {
        *out = dflt;
        return IA_OK;
    }
    if (!json_is_number(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not a number", c->label, key);
    *out = json_number_value(v);
    return IA_OK;
}

int ia_hf_config_float(const struct ia_hf_config *c, const char *key, double *out) {
    if (!get(c, key)) return missing(c, key);
    return ia_hf_config_float_or(c, key, 0, out);
}

int ia_hf_config_bool_or(const struct ia_hf_config *c, const char *key, int dflt, int *out) {
    json_t *v = get(c, key);
    if (!v) {
        *out = dflt;
        return IA_OK;
    }
    if (!json_is_boolean(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not true or false", c->label, key);
    *out = json_is_true(v);
    return IA_OK;
}

int ia_hf_config_str_or(const struct ia_hf_config *c, const char *key, const char *dflt,
                        const char **out) {
    json_t *v = get(c, key);
    if (!v) {
        *out = dflt;
        return IA_OK;
    }
    if (!json_is_string(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not a string", c->label, key);
    *out = json_string_value(v);
    return IA_OK;
}

int64_t ia_hf_config_len(const struct ia_hf_config *c, const char *key) {
    json_t *v = get(c, key);
    if (json_is_array(v)) return (int64_t)json_array_size(v);
    if (json_is_object(v)) return (int64_t)json_object_size(v);
    return -1;
}

int ia_hf_config_sub(const struct ia_hf_config *c, const char *key, struct ia_hf_config **out) {
    *out = NULL;
    json_t *v = get(c, key);
    if (v && !json_is_object(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not an object", c->label, key);
    json_t *r = v ? json_deep_copy(v) : json_object();
    size_t n = strlen(c->label) + strlen(key) + 3;
    char *label = ia_malloc(n);
    if (!r || !label) {
        json_decref(r);
        ia_free(label);
        return ia_error_set(IA_ENOMEM, "out of memory");
    }
    snprintf(label, n, "%s: %s", c->label, key);
    int rc = config_from_json(r, label, out);
    ia_free(label);
    return rc;
}

int ia_hf_config_int_at(const struct ia_hf_config *c, const char *key, size_t i, int64_t *out) {
    json_t *v = get(c, key);
    if (!v) return missing(c, key);
    if (!json_is_array(v))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' is not an array", c->label, key);
    json_t *e = json_array_get(v, i);
    if (!e)
        return ia_error_set(IA_ENOTFOUND, "%s: key '%s' has %zu entries, wanted entry %zu",
                            c->label, key, json_array_size(v), i);
    if (!json_is_integer(e))
        return ia_error_set(IA_EFORMAT, "%s: key '%s' entry %zu is not an integer", c->label,
                            key, i);
    *out = json_integer_value(e);
    return IA_OK;
}

const char *ia_hf_config_architecture(const struct ia_hf_config *c) {
    json_t *a = get(c, "architectures");
    json_t *first = json_is_array(a) ? json_array_get(a, 0) : NULL;
    return json_is_string(first) ? json_string_value(first) : NULL;
}

char *ia_hf_config_dump(const struct ia_hf_config *c) {
    char *s = json_dumps(c->root, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) return NULL;
    char *r = ia_strdup(s);
    free(s);
    return r;
}

/* ---- checkpoints -------------------------------------------------------- */

struct ck_shard {
    char *path;
    struct ia_safetensors *st;
    uint8_t *used; /* (st->n_tensors) */
};

struct ia_hf_checkpoint {
    struct ck_shard *shards;
    size_t n_shards;
    json_t *weight_map; /* NULL for a single file */
    size_t n_used;
};

void ia_hf_checkpoint_close(struct ia_hf_checkpoint *ck) {
    if (!ck) return;
    for (size_t i = 0; i < ck->n_shards; i++) {
        ia_safetensors_close(ck->shards[i].st);
        ia_free(ck->shards[i].path);
        ia_free(ck->shards[i].used);
    }
    ia_free(ck->shards);
    if (ck->weight_map) json_decref(ck->weight_map);
    ia_free(ck);
}

static char *join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = ia_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static int add_shard(struct ia_hf_checkpoint *ck, const char *dir, const char *name) {
    for (size_t i = 0; i < ck->n_shards; i++) {
        const char *base = strrchr(ck->shards[i].path, '/');
        if (!strcmp(base + 1, name)) return IA_OK;
    }
    if (ck->n_shards >= HF_MAX_SHARDS)
        return ia_error_set(IA_ERANGE, "%s: more than %d shards", dir, HF_MAX_SHARDS);
    struct ck_shard *ns = ia_realloc(ck->shards, (ck->n_shards + 1) * sizeof *ns);
    if (!ns) return ia_error_set(IA_ENOMEM, "out of memory");
    ck->shards = ns;
    struct ck_shard *s = &ns[ck->n_shards];
    memset(s, 0, sizeof *s);
    s->path = join(dir, name);
    if (!s->path) return ia_error_set(IA_ENOMEM, "out of memory");
    ck->n_shards++;
    int rc = ia_safetensors_open(s->path, &s->st);
    if (rc) return rc;
    s->used = ia_calloc(s->st->n_tensors ? s->st->n_tensors : 1, 1);
    return s->used ? IA_OK : ia_error_set(IA_ENOMEM, "out of memory");
}

static int open_index(struct ia_hf_checkpoint *ck, const char *dir, const char *index_path) {
    char *buf;
    size_t len;
    int rc = read_small_file(index_path, 64u << 20, &buf, &len);
    if (rc) return rc;
    json_error_t err;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
    ia_free(buf);
    if (!root)
        return ia_error_set(IA_EFORMAT, "%s: not valid JSON: %s (line %d)", index_path, err.text,
                            err.line);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm) || !json_object_size(wm)) {
        json_decref(root);
        return ia_error_set(IA_EFORMAT, "%s: no \"weight_map\" object", index_path);
    }
    ck->weight_map = json_incref(wm);
    json_decref(root);
    const char *k;
    json_t *v;
    json_object_foreach(ck->weight_map, k, v) {
        const char *f = json_string_value(v);
        if (!f || !*f || strchr(f, '/') || !strcmp(f, ".") || !strcmp(f, ".."))
            return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s' maps to '%.200s', not a file "
                                "name in the checkpoint folder", index_path, k, f ? f : "?");
        rc = add_shard(ck, dir, f);
        if (rc) return rc;
    }
    json_object_foreach(ck->weight_map, k, v) {
        const char *file;
        if (!ia_hf_checkpoint_find(ck, k, &file))
            return ia_error_set(IA_EFORMAT, "%s: tensor '%.200s' is not in its shard '%s'",
                                index_path, k, json_string_value(v));
    }
    return IA_OK;
}

int ia_hf_checkpoint_open(const char *dir, struct ia_hf_checkpoint **out) {
    *out = NULL;
    struct ia_hf_checkpoint *ck = ia_calloc(1, sizeof *ck);
    if (!ck) return ia_error_set(IA_ENOMEM, "out of memory");
    char *index = join(dir, "model.safetensors.index.json");
    char *single = join(dir, "model.safetensors");
    int rc = index && single ? IA_OK : ia_error_set(IA_ENOMEM, "out of memory");
    struct stat sb;
    if (rc == IA_OK && stat(index, &sb) == 0) {
        rc = open_index(ck, dir, index);
    } else if (rc == IA_OK && stat(single, &sb) == 0) {
        rc = add_shard(ck, dir, "model.safetensors");
    } else if (rc == IA_OK) {
        char *bin = join(dir, "pytorch_model.bin");
        int has_bin = bin && stat(bin, &sb) == 0;
        ia_free(bin);
        rc = ia_error_set(IA_ENOTFOUND,
                          has_bin ? "%s: only pytorch_model.bin (a pickle) is present; convert "
                                    "needs model.safetensors (pickles are not loaded: they can "
                                    "run code)"
                                  : "%s: no model.safetensors or model.safetensors.index.json",
                          dir);
    }
    ia_free(index);
    ia_free(single);
    if (rc) {
        ia_hf_checkpoint_close(ck);
        return rc;
    }
    *out = ck;
    return IA_OK;
}

size_t ia_hf_checkpoint_n_files(const struct ia_hf_checkpoint *ck) { return ck->n_shards; }

size_t ia_hf_checkpoint_n_tensors(const struct ia_hf_checkpoint *ck) {
    size_t n = 0;
    for (size_t i = 0; i < ck->n_shards; i++) n += ck->shards[i].st->n_tensors;
    return n;
}

const struct ia_st_tensor *ia_hf_checkpoint_find(const struct ia_hf_checkpoint *ck,
                                                 const char *name, const char **file) {
    if (ck->weight_map) {
        const char *f = json_string_value(json_object_get(ck->weight_map, name));
        if (!f) return NULL;
        for (size_t i = 0; i < ck->n_shards; i++) {
            const char *base = strrchr(ck->shards[i].path, '/') + 1;
            if (!strcmp(base, f)) {
                if (file) *file = ck->shards[i].path;
                return ia_safetensors_find(ck->shards[i].st, name);
            }
        }
        return NULL;
    }
    for (size_t i = 0; i < ck->n_shards; i++) {
        const struct ia_st_tensor *t = ia_safetensors_find(ck->shards[i].st, name);
        if (t) {
            if (file) *file = ck->shards[i].path;
            return t;
        }
    }
    return NULL;
}

void zoo_ckpt_mark_used(struct ia_hf_checkpoint *ck, const struct ia_st_tensor *t) {
    for (size_t i = 0; i < ck->n_shards; i++) {
        const struct ia_safetensors *st = ck->shards[i].st;
        if (t >= st->tensors && t < st->tensors + st->n_tensors) {
            size_t k = (size_t)(t - st->tensors);
            if (!ck->shards[i].used[k]) {
                ck->shards[i].used[k] = 1;
                ck->n_used++;
            }
            return;
        }
    }
}

size_t ia_hf_checkpoint_n_used(const struct ia_hf_checkpoint *ck) { return ck->n_used; }

const char *ia_hf_checkpoint_next_unused(const struct ia_hf_checkpoint *ck, size_t from,
                                         size_t *index) {
    size_t base = 0;
    for (size_t i = 0; i < ck->n_shards; i++) {
        size_t n = ck->shards[i].st->n_tensors;
        for (size_t k = 0; k < n; k++)
            if (base + k >= from && !ck->shards[i].used[k]) {
                *index = base + k;
                return ck->shards[i].st->tensors[k].name;
            }
        base += n;
    }
    return NULL;
}
