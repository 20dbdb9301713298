/* Helpers shared by the store commands (add, cat, get, ls, pin, gc,
 * verify-blocks, car). */
#ifndef IA_CLI_STORE_H
#define IA_CLI_STORE_H

#include <jansson.h>

#include "ia/store.h"

/* Parses a CID argument; on failure prints
 * "ipfs-accelerate: <cmd>: invalid CID '<arg>': <why>" and returns
 * CLI_USAGE (a malformed argument is a usage error), else CLI_OK. */
int cli_parse_cid(const char *cmd, const char *arg, struct ia_cid *out);
/* Opens the store in $IA_HOME; prints the error and returns CLI_FAILED. */
int cli_open_store(const char *cmd, struct ia_store **out);
/* Prints j as one JSON document on stdout and releases it. */
int cli_print_json(const char *cmd, json_t *j);
/* The CID as text into a json string (NULL on allocation failure). */
json_t *cli_json_cid(const struct ia_cid *cid);

#endif
