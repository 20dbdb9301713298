/* Recursive pins: home/pins/<CIDv1 string>, one empty file per pin. A v0
 * CID is pinned under its v1 form so the two spellings of one DAG are one
 * pin. Adding a pin first walks the whole DAG: a pin promises gc that every
 * block under it is present. */
#include "store_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int pin_path(struct ia_store *s, const struct ia_cid *root, char *path, size_t cap,
                    char *str) {
    struct ia_cid v1 = *root;
    v1.version = 1;
    ia_cid_format(&v1, str);
    int n = snprintf(path, cap, "%s/%s", s->pins, str);
    if (n < 0 || (size_t)n >= cap) return ia_error_set(IA_ERANGE, "pin path too long");
    return IA_OK;
}

static int need_all(void *user, const struct ia_cid *cid, int rc, const uint8_t *data, size_t len) {
    (void)user;
    (void)data;
    (void)len;
    if (rc == IA_OK) return IA_OK;
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    if (rc == IA_ENOTFOUND)
        return ia_error_set(IA_ENOTFOUND, "block %s is not in the store (the DAG is incomplete)",
                            str);
    return ia_error_set(rc, "block %s is corrupt", str);
}

int ia_store_pin_add(struct ia_store *s, const struct ia_cid *root) {
    char path[PATH_MAX], str[IA_CID_STR_MAX];
    int rc = pin_path(s, root, path, sizeof path, str);
    if (rc == IA_OK) rc = ia_store_walk(s, root, 0, NULL, need_all, NULL);
    if (rc != IA_OK) return ia_error_wrap(rc, "cannot pin %s", str);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return ia_error_set(errno == ENOSPC ? IA_ENOSPC : IA_EIO, "%s: %s", path, strerror(errno));
    close(fd);
    return ia_store_fsync_dir(s->pins);
}

int ia_store_pin_rm(struct ia_store *s, const struct ia_cid *root) {
    char path[PATH_MAX], str[IA_CID_STR_MAX];
    int rc = pin_path(s, root, path, sizeof path, str);
    if (rc != IA_OK) return rc;
    if (unlink(path) != 0) {
        if (errno == ENOENT) return ia_error_set(IA_ENOTFOUND, "%s is not pinned", str);
        return ia_error_set(IA_EIO, "%s: %s", path, strerror(errno));
    }
    return ia_store_fsync_dir(s->pins);
}

int ia_store_pin_list(struct ia_store *s, ia_store_cid_fn fn, void *user) {
    DIR *d = opendir(s->pins);
    if (!d) return ia_error_set(IA_EIO, "%s: %s", s->pins, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        struct ia_cid cid;
        /* We only ever write CID names; anything else (an editor's backup)
         * was never a pin. */
        if (e->d_name[0] == '.' || ia_cid_parse(e->d_name, &cid) != IA_OK) continue;
        fn(user, &cid);
    }
    closedir(d);
    return IA_OK;
}
