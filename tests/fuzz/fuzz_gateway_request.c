/* Fuzzes the gateway's hand-written parsers: the input is split at '\n'
 * into method, URL, format, dag-scope, Accept and a listen address (missing
 * fields are absent), each an exact-size heap copy so ASan sees any
 * over-read. */
#include <stdlib.h>
#include <string.h>

#include "store/gateway_internal.h"

enum { N_FIELDS = 6 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *field[N_FIELDS] = {0};
    size_t start = 0;
    for (int i = 0; i < N_FIELDS && start <= size; i++) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        field[i] = malloc(end - start + 1);
        if (!field[i]) break;
        memcpy(field[i], data + start, end - start);
        field[i][end - start] = '\0';
        start = end + 1;
    }
    if (field[0] && field[1]) {
        struct gw_request q;
        int status = gw_parse_request(field[0], field[1], field[2], field[3], field[4], &q);
        IA_ASSERT(status == 200 || status == 400 || status == 404 || status == 405 ||
                  status == 406);
        IA_ASSERT(status == 200 ? q.format != GW_FORMAT_NONE : q.why != NULL);
        if (status == 200) {
            char s[IA_CID_STR_MAX];
            IA_ASSERT(ia_cid_format(&q.cid, s) == IA_OK);
        }
    }
    if (field[5]) {
        struct sockaddr_storage ss;
        socklen_t len;
        (void)gw_parse_listen(field[5], &ss, &len);
    }
    for (int i = 0; i < N_FIELDS; i++) free(field[i]);
    return 0;
}
