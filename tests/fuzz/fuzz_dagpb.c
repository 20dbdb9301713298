/* Fuzzes dag-pb and UnixFS decoding. A node that decodes must re-encode to
 * bytes that decode to the same node. (Not always the same bytes: decoders
 * accept Data before Links and non-minimal protobuf varints.) */
#include <stdlib.h>
#include <string.h>

#include "ia/cid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct ia_pb_node node;
    if (ia_pb_node_decode(data, size, &node) == IA_OK) {
        uint8_t *enc;
        size_t n;
        if (ia_pb_node_encode(&node, &enc, &n) == IA_OK) {
            IA_ASSERT(n <= size);
            struct ia_pb_node again;
            IA_ASSERT(ia_pb_node_decode(enc, n, &again) == IA_OK);
            IA_ASSERT(again.n_links == node.n_links && again.has_data == node.has_data &&
                      again.data_len == node.data_len);
            IA_ASSERT(node.data_len == 0 || memcmp(again.data, node.data, node.data_len) == 0);
            for (size_t i = 0; i < node.n_links; i++) {
                const struct ia_pb_link *a = &again.links[i], *b = &node.links[i];
                IA_ASSERT(ia_cid_equal(&a->cid, &b->cid) && a->has_name == b->has_name &&
                          a->name_len == b->name_len && a->has_tsize == b->has_tsize &&
                          a->tsize == b->tsize);
                IA_ASSERT(a->name_len == 0 || memcmp(a->name, b->name, a->name_len) == 0);
            }
            ia_pb_node_free(&again);
            ia_free(enc);
        }
        if (node.has_data) {
            struct ia_unixfs u;
            if (ia_unixfs_decode(node.data, node.data_len, &u) == IA_OK) {
                uint8_t *ue;
                size_t un;
                if (ia_unixfs_encode(&u, &ue, &un) == IA_OK) {
                    struct ia_unixfs u2;
                    IA_ASSERT(ia_unixfs_decode(ue, un, &u2) == IA_OK);
                    IA_ASSERT(u2.type == u.type && u2.n_blocksizes == u.n_blocksizes);
                    ia_unixfs_free(&u2);
                    ia_free(ue);
                }
                ia_unixfs_free(&u);
            }
        }
        ia_pb_node_free(&node);
    }
    struct ia_unixfs u;
    if (ia_unixfs_decode(data, size, &u) == IA_OK) ia_unixfs_free(&u);
    struct ia_cid cid, *links;
    size_t nl;
    ia_cid_of(1, IA_CODEC_DAG_PB, data, size, &cid);
    if (ia_block_links(&cid, data, size, &links, &nl) == IA_OK) ia_free(links);
    return 0;
}
