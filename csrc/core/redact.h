/* redact.h: finding the credentials a request carried in what the server sent back, however it wrote them,
 * and replacing them with "[REDACTED]". Pure: no libcurl, no locks; unit-tested in tests/c/test_redact.c
 * and fuzzed by fuzz/fuzz_redact.c.
 *
 * A server (or a proxy) that echoes the Authorization header rarely echoes it byte for byte: a .NET
 * backend writes '+' as \u002B in JSON, others write '/' as \/, a URL carries %2B, an HTML page &#43;.
 * Whatever the writing, the reader of the error recovers the secret, so the match reads the text the way
 * each of those decoders would: every character of a secret may appear literally or in any of these
 * escapes, in any mix. */
#ifndef CODAT_REDACT_H
#define CODAT_REDACT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#define CODAT_MAX_SECRETS 32
/* A derived form (a credential, a decoded key) shorter than this is not looked for: it would redact
 * ordinary words. The whole header value is looked for from 4 bytes on. */
#define CODAT_MIN_DERIVED_SECRET 6

typedef struct {
    char *items[CODAT_MAX_SECRETS]; /* malloc'd copies, wiped when freed */
    size_t lens[CODAT_MAX_SECRETS];
    /* Holds another item ("Basic QVBJ" holds "QVBJ"): finding that one finds this one too, so a search
     * for whether any is present can skip it. */
    unsigned char covered[CODAT_MAX_SECRETS];
    size_t n;
} codat_secrets;

void codat_secrets_init(codat_secrets *s);
void codat_secrets_free(codat_secrets *s);
/* Adds what one Authorization (or Proxy-Authorization) value gives away: the value, its credential (the
 * part after the scheme), and for Basic the credential without its '=' padding, its URL-safe alphabet
 * form, the decoded "user:password" (Codat: the API key itself) and the password alone. Returns 0, or -1
 * when out of memory (what was added stays). */
int codat_secrets_add_authorization(codat_secrets *s, const char *value, size_t len);
/* Adds what the userinfo of a proxy URL ("http://user:password@host") gives away: the Proxy-Authorization
 * libcurl makes of it, and through that the decoded "user:password" and the password. Nothing without
 * userinfo. Returns 0, or -1 when out of memory. */
int codat_secrets_add_url_userinfo(codat_secrets *s, const char *url);
/* Adds one secret as it is (at least 4 bytes, else ignored). 0, or -1 when out of memory. */
int codat_secrets_add(codat_secrets *s, const char *secret, size_t len);

/* The value of a hexadecimal digit, or -1 (shared by the two files). */
int codat_hex_value(unsigned char c);

/* Where the first secret starts in text[0..len), reading escapes as described above: returns its offset
 * and sets *match_len to the bytes it spans in text; or returns (size_t)-1. */
size_t codat_find_secret(const char *text, size_t len, const char *secret, size_t secret_len,
                         size_t *match_len);

/* Replaces every secret in *text (len bytes, NUL-terminated, malloc'd) with "[REDACTED]". The buffer may
 * be replaced (the old one wiped and freed). Returns the number of replacements; when out of memory the
 * secrets are overwritten with '*' in place instead, so that nothing leaks either way. */
size_t codat_redact(char **text, size_t *len, const codat_secrets *s);
/* For a text cut short (at max_body_bytes): when it ends inside a secret, from where 4 bytes or more of one
 * are spelled (however escaped) to the end, that tail becomes "[REDACTED]". Call after codat_redact.
 * Returns 1 when it cut, else 0. */
size_t codat_redact_cut_tail(char **text, size_t *len, const codat_secrets *s);
/* Whether text[0..len) holds any secret. */
int codat_holds_secret(const char *text, size_t len, const codat_secrets *s);
/* Redacts every string of a parsed JSON value, keys included, at every depth. Returns the number of
 * replacements. */
size_t codat_redact_json(cJSON *item, const codat_secrets *s);

#endif
