#include "cli_model.h"

#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ia/store.h"

int cli_model_path(const char *cmd, const char *arg, char *path, size_t cap, int *is_cid) {
    struct stat st;
    struct ia_cid cid;
    *is_cid = 0;
    /* A file named like a CID is still a file: paths win. */
    if (stat(arg, &st) == 0 || strchr(arg, '/') || ia_cid_parse(arg, &cid) != IA_OK) return CLI_OK;
    struct ia_store *s = NULL;
    if (ia_store_open(NULL, &s) != IA_OK)
        return cli_fail(cmd, "%s: cannot open the store: %s", arg, ia_error_msg());
    int rc = ia_store_model_path(s, &cid, path, cap);
    ia_store_close(s);
    if (rc != IA_OK) return cli_fail_lib(cmd);
    *is_cid = 1;
    return CLI_OK;
}
