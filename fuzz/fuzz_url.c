/* fuzz_url.c: libFuzzer target for csrc/core/url.c.
 *
 * 1. codat_encode_segment(data, size): the output holds only RFC 3986 unreserved characters and "%XX"
 *    with uppercase hex, is never the dot-segment "." or "..", has the predicted length, and decodes back
 *    to exactly the input bytes.
 * 2. codat_build_url with the data as company id (a NUL-terminated copy, so up to the first NUL) on both
 *    endpoints: the result is server + "/companies/" + encode_segment(id) + suffix and has exactly 5
 *    (company) or 6 (connectionManagement) '/' characters: the id adds none.
 * 3. codat_check_server_url on the data as a string must not crash, must terminate err, and whatever it
 *    accepts has the promised shape; an accepted URL also goes through codat_build_url.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "codat.h"
#include "url.h"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1; /* lowercase hex is not what the encoder promises */
}

static size_t count_slashes(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '/';
    return n;
}

static void check_encode(const uint8_t *data, size_t size)
{
    char *enc = codat_encode_segment((const char *)data, size);
    if (!enc)
        abort(); /* only out of memory may return NULL */
    size_t want_len = 0;
    for (size_t i = 0; i < size; i++)
        want_len += unreserved(data[i]) ? 1 : 3;
    int dotseg = (size == 1 && data[0] == '.') || (size == 2 && data[0] == '.' && data[1] == '.');
    if (dotseg)
        want_len = size * 3;
    size_t len = strlen(enc);
    if (len != want_len)
        abort();
    if (strcmp(enc, ".") == 0 || strcmp(enc, "..") == 0)
        abort();
    /* decode */
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)enc[i];
        int byte;
        if (c == '%') {
            if (i + 2 >= len) /* '%' needs two hex digits after it */
                abort();
            int hi = hexval((unsigned char)enc[i + 1]), lo = hexval((unsigned char)enc[i + 2]);
            if (hi < 0 || lo < 0)
                abort();
            byte = hi * 16 + lo;
            i += 2;
        } else if (unreserved(c)) {
            byte = c;
        } else {
            abort();
        }
        if (j >= size || data[j] != (uint8_t)byte)
            abort();
        j++;
    }
    if (j != size)
        abort();
    free(enc);
}

static void check_build(const char *server, const char *id)
{
    static const codat_endpoint eps[] = {CODAT_EP_COMPANY, CODAT_EP_CONNECTION_MANAGEMENT};
    static const char *const suffix[] = {"/accessToken", "/connectionManagement/accessToken"};
    char *seg = codat_encode_segment(id, strlen(id));
    if (!seg)
        abort();
    size_t base_len = strlen(server);
    while (base_len && server[base_len - 1] == '/')
        base_len--;
    size_t base_slashes = 0;
    for (size_t i = 0; i < base_len; i++)
        base_slashes += server[i] == '/';
    for (int k = 0; k < 2; k++) {
        char *url = codat_build_url(server, eps[k], id);
        if (!url)
            abort();
        /* exact shape */
        size_t ul = strlen(url), sl = strlen(seg), xl = strlen(suffix[k]);
        if (ul != base_len + strlen("/companies/") + sl + xl || memcmp(url, server, base_len) != 0 ||
            memcmp(url + base_len, "/companies/", 11) != 0 || memcmp(url + base_len + 11, seg, sl) != 0 ||
            strcmp(url + base_len + 11 + sl, suffix[k]) != 0)
            abort();
        if (count_slashes(url) != base_slashes + 2 + (size_t)(k + 1)) /* the id adds no '/' */
            abort();
        free(url);
    }
    free(seg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_encode(data, size);

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    check_build("https://api.codat.io", s);   /* 5 or 6 slashes in all */
    check_build("https://api.codat.io//", s); /* trailing slashes are stripped */
    check_build("http://127.0.0.1:8080/base/", s);

    char err[64];
    memset(err, 'x', sizeof err);
    int rc = codat_check_server_url(s, err, sizeof err);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && !memchr(err, '\0', sizeof err))
        abort();
    char tiny[3];
    if (codat_check_server_url(s, tiny, sizeof tiny) != rc || codat_check_server_url(s, NULL, 0) != rc)
        abort();
    if (rc == 0) {
        /* schemes are case-insensitive, and the validator accepts them so */
        size_t scheme = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
        if (!scheme)
            abort();
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            if (*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#')
                abort();
        size_t auth = strcspn(s + scheme, "/");
        if (auth == 0 || memchr(s + scheme, '@', auth))
            abort();
        check_build(s, "abc");
        check_build(s, "../../x");
    }
    free(s);
    return 0;
}
