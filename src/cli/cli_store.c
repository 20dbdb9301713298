#include "cli_store.h"

#include <stdio.h>

#include "cli.h"

int cli_parse_cid(const char *cmd, const char *arg, struct ia_cid *out) {
    if (ia_cid_parse(arg, out) == IA_OK) return CLI_OK;
    return cli_usage(cmd, "invalid CID '%s': %s", arg, ia_error_msg());
}

int cli_open_store(const char *cmd, struct ia_store **out) {
    if (ia_store_open(NULL, out) == IA_OK) return CLI_OK;
    return cli_fail(cmd, "cannot open the store: %s", ia_error_msg());
}

int cli_print_json(const char *cmd, json_t *j) {
    if (!j) return cli_fail(cmd, "out of memory");
    int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (rc != 0) return cli_fail(cmd, "cannot write the JSON output");
    fputc('\n', stdout);
    return CLI_OK;
}

json_t *cli_json_cid(const struct ia_cid *cid) {
    char str[IA_CID_STR_MAX];
    ia_cid_format(cid, str);
    return json_string(str);
}
