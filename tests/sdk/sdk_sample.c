/* A program outside the project using the installed SDK: what a user of
 * `pkg-config --cflags --libs ipfs-accelerate` or find_package gets. */
#include <ia/cid.h>
#include <ia/core.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    struct ia_cid c;
    char s[IA_CID_STR_MAX];
    ia_cid_of(1, IA_CODEC_RAW, (const uint8_t *)"", 0, &c);
    if (ia_cid_format(&c, s) != IA_OK) return 1;
    printf("%s\n", s);
    return strcmp(s, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") != 0;
}
