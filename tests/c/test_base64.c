/* test_base64.c: codat_base64_encoded_len, codat_base64_encode (csrc/core/base64.c). */
#include <string.h>
#include "base64.h"
#include "tinytest.h"

static void check(const char *in, const char *want)
{
    char out[128];
    memset(out, 'Z', sizeof out);
    size_t n = codat_base64_encode((const unsigned char *)in, strlen(in), out);
    TT_EQ_LONG(n, strlen(want));
    TT_EQ_LONG(codat_base64_encoded_len(strlen(in)), strlen(want));
    TT_EQ_STR(out, want);
}

TT_TEST(rfc4648_vectors)
{
    /* RFC 4648 section 10 */
    check("", "");
    check("f", "Zg==");
    check("fo", "Zm8=");
    check("foo", "Zm9v");
    check("foob", "Zm9vYg==");
    check("fooba", "Zm9vYmE=");
    check("foobar", "Zm9vYmFy");
}

TT_TEST(api_key_as_the_binding_sends_it)
{
    check("demo-api-key", "ZGVtby1hcGkta2V5");
}

TT_TEST(every_byte_value_and_the_last_alphabet_characters)
{
    const unsigned char high[] = {0xff, 0xfe, 0xfd, 0x00, 0x3e, 0x3f};
    char out[16];
    TT_EQ_LONG(codat_base64_encode(high, sizeof high, out), 8);
    TT_EQ_STR(out, "//79AD4/");
    const unsigned char one_zero[] = {0};
    TT_EQ_LONG(codat_base64_encode(one_zero, 1, out), 4);
    TT_EQ_STR(out, "AA==");
    const unsigned char pluses[] = {0xfb, 0xef, 0xbe};
    codat_base64_encode(pluses, sizeof pluses, out);
    TT_EQ_STR(out, "++++");
}

TT_TEST(writes_exactly_len_plus_nul)
{
    /* the binding allocates encoded_len + 1: nothing may be written past it */
    for (size_t n = 0; n < 40; n++) {
        unsigned char in[40];
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(i * 37 + 11);
        char out[64];
        memset(out, '#', sizeof out);
        size_t len = codat_base64_encoded_len(n);
        TT_EQ_LONG(codat_base64_encode(in, n, out), len);
        TT_EQ_LONG(out[len], '\0');
        TT_EQ_LONG(out[len + 1], '#');
        TT_EQ_LONG(len % 4, 0);
    }
}

int main(void)
{
    TT_RUN(rfc4648_vectors);
    TT_RUN(api_key_as_the_binding_sends_it);
    TT_RUN(every_byte_value_and_the_last_alphabet_characters);
    TT_RUN(writes_exactly_len_plus_nul);
    return tt_summary();
}
