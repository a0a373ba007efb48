/* redact_secrets.c: the secrets a request carried (an Authorization value, a proxy's userinfo) and every
 * form each gives away, for redact.c to look for. See redact.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "redact.h"

void codat_secrets_init(codat_secrets *s)
{
    memset(s, 0, sizeof *s);
}

void codat_secrets_free(codat_secrets *s)
{
    for (size_t i = 0; i < s->n; i++) {
        memset(s->items[i], 0, s->lens[i]);
        free(s->items[i]);
    }
    s->n = 0;
}

static int add_min(codat_secrets *s, const char *secret, size_t len, size_t min_len)
{
    if (len < min_len)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->lens[i] == len && memcmp(s->items[i], secret, len) == 0)
            return 0;
    if (s->n == CODAT_MAX_SECRETS)
        return 0; /* more Authorization headers than anyone sends; the first ones are covered */
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, secret, len);
    copy[len] = '\0';
    s->items[s->n] = copy;
    s->lens[s->n] = len;
    s->covered[s->n] = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (len > s->lens[i] && memmem(copy, len, s->items[i], s->lens[i]))
            s->covered[s->n] = 1;
        else if (s->lens[i] > len && memmem(s->items[i], s->lens[i], copy, len))
            s->covered[i] = 1;
    }
    s->n++;
    return 0;
}

/* The Latin-1 spelling of a UTF-8 secret whose characters all fit in Latin-1, into out (len bytes of
 * room); 0 when there is none (plain ASCII, or a character past U+00FF). HTTP header values are Latin-1
 * to many servers, and to SDKError.headers: "é" echoed as the byte E9 reads back as "é". */
static size_t latin1_form(const char *secret, size_t len, char *out)
{
    size_t n = 0;
    int non_ascii = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (c < 0x80) {
            out[n++] = (char)c;
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < len && ((unsigned char)secret[i + 1] & 0xC0) == 0x80) {
            out[n++] = (char)(((c & 0x03) << 6) | ((unsigned char)secret[i + 1] & 0x3F));
            i++;
            non_ascii = 1;
        } else {
            return 0;
        }
    }
    return non_ascii ? n : 0;
}

/* A secret and, when it has one, its Latin-1 spelling. */
static int add_forms(codat_secrets *s, const char *secret, size_t len, size_t min_len)
{
    if (add_min(s, secret, len, min_len) < 0)
        return -1;
    size_t i = 0;
    while (i < len && (unsigned char)secret[i] < 0x80)
        i++;
    if (i == len)
        return 0; /* plain ASCII: the same in Latin-1 */
    char *latin1 = malloc(len + 1);
    if (!latin1)
        return -1;
    size_t n = latin1_form(secret, len, latin1);
    int rc = n ? add_min(s, latin1, n, min_len) : 0;
    memset(latin1, 0, len + 1);
    free(latin1);
    return rc;
}

int codat_secrets_add(codat_secrets *s, const char *secret, size_t len)
{
    return add_forms(s, secret, len, 4);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (either alphabet, padding optional) into out (room for len bytes). Returns the decoded
 * length, or (size_t)-1 when s is not base64. */
static size_t b64_decode(const char *s, size_t len, char *out)
{
    while (len > 0 && s[len - 1] == '=')
        len--;
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return (size_t)-1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    return n;
}

int codat_secrets_add_authorization(codat_secrets *s, const char *value, size_t len)
{
    while (len > 0 && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (add_forms(s, value, len, 4) < 0)
        return -1;
    const char *space = memchr(value, ' ', len);
    if (!space)
        return 0;
    size_t scheme_len = (size_t)(space - value);
    const char *cred = space;
    size_t cred_len = len - scheme_len;
    while (cred_len > 0 && (*cred == ' ' || *cred == '\t'))
        cred++, cred_len--;
    if (add_forms(s, cred, cred_len, CODAT_MIN_DERIVED_SECRET) < 0)
        return -1;
    if (scheme_len != 5 || strncasecmp(value, "Basic", 5) != 0 || cred_len == 0)
        return 0;
    /* Basic: the same credential without padding and in the URL-safe alphabet, then what it encodes. */
    char *buf = malloc(cred_len + 1);
    if (!buf)
        return -1;
    int rc = 0;
    size_t unpadded = cred_len;
    while (unpadded > 0 && cred[unpadded - 1] == '=')
        unpadded--;
    rc |= add_forms(s, cred, unpadded, CODAT_MIN_DERIVED_SECRET);
    for (size_t i = 0; i < unpadded; i++)
        buf[i] = cred[i] == '+' ? '-' : cred[i] == '/' ? '_' : cred[i];
    rc |= add_forms(s, buf, unpadded, CODAT_MIN_DERIVED_SECRET);
    size_t n = b64_decode(cred, cred_len, buf);
    if (n != (size_t)-1 && memchr(buf, '\0', n) == NULL) {
        rc |= add_forms(s, buf, n, CODAT_MIN_DERIVED_SECRET);
        const char *colon = memchr(buf, ':', n);
        if (colon)
            rc |= add_forms(s, colon + 1, n - (size_t)(colon + 1 - buf), CODAT_MIN_DERIVED_SECRET);
    }
    memset(buf, 0, cred_len + 1);
    free(buf);
    return rc ? -1 : 0;
}

int codat_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int codat_secrets_add_url_userinfo(codat_secrets *s, const char *url)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!url)
        return 0;
    const char *start = strstr(url, "://");
    start = start ? start + 3 : url;
    size_t authority = strcspn(start, "/?#");
    const char *at = NULL;
    for (const char *p = start; p < start + authority; p++)
        if (*p == '@')
            at = p;
    if (!at || at == start)
        return 0;
    /* libcurl percent-decodes the userinfo, then sends "Basic " + base64("user:password") */
    size_t n = (size_t)(at - start), len = 0;
    char *header = malloc(6 + 4 * (n / 3 + 1) + 1), *decoded = malloc(n + 1);
    int rc = -1;
    if (!header || !decoded)
        goto out;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? codat_hex_value((unsigned char)start[i + 1]) : -1;
        int lo = i + 2 < n ? codat_hex_value((unsigned char)start[i + 2]) : -1;
        if (start[i] == '%' && hi >= 0 && lo >= 0) {
            decoded[len++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[len++] = start[i];
        }
    }
    memcpy(header, "Basic ", 6);
    char *o = header + 6;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)(unsigned char)decoded[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)(unsigned char)decoded[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)decoded[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? b64[v & 63] : '=';
    }
    *o = '\0';
    /* the header libcurl sends, and with it the decoded "user:password" and the password */
    rc = codat_secrets_add_authorization(s, header, strlen(header));
out:
    if (header) {
        memset(header, 0, 6 + 4 * (n / 3 + 1) + 1);
        free(header);
    }
    if (decoded) {
        memset(decoded, 0, n + 1);
        free(decoded);
    }
    return rc;
}
