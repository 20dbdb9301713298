/* MODEL arguments of run and verify: a path, or a CID in the store. */
#ifndef IA_CLI_MODEL_H
#define IA_CLI_MODEL_H

#include <stddef.h>

/* An existing path, or anything that does not parse as a CID, is left to
 * the caller: returns CLI_OK with *is_cid 0 and path untouched. A CID is
 * resolved with ia_store_model_path into path (a verified copy in
 * $IA_HOME/cache/models/<CID>/): CLI_OK with *is_cid 1, or CLI_FAILED
 * after printing "ipfs-accelerate: <cmd>: <why>" (not in the store, no
 * .onnx in it, a corrupt block, ...). */
int cli_model_path(const char *cmd, const char *arg, char *path, size_t cap, int *is_cid);

#endif
