/* classify.c: the one place that knows how an HTTP answer maps onto the API's promises, shared by the
 * blocking, batch and asynchronous paths. A pure function of (status, content type, body). */
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "codat.h"
#include "classify.h"

int codat_is_json_content_type(const char *content_type)
{
    if (!content_type)
        return 0;
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    static const char media[] = "application/json";
    size_t n = sizeof(media) - 1;
    if (strncasecmp(content_type, media, n) != 0)
        return 0;
    const char *rest = content_type + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    /* Only parameters may follow ("; charset=utf-8"); "application/jsonp" is something else. */
    return *rest == '\0' || *rest == ';';
}

int codat_is_error_message_status(long status)
{
    switch (status) {
    case 401: case 402: case 403: case 404: case 429: case 500: case 503:
        return 1;
    default:
        return 0;
    }
}

int codat_is_valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char c = *p;
        size_t n;
        unsigned min;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 */
        if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Whether a JSON text holds the escape \u0000. cJSON keeps strings NUL-terminated, so such a string (a
 * key or a value) would come back silently cut short at the NUL. Backslashes pair left to right and are
 * only valid inside strings, so a plain scan finds every escape without tracking string state. */
static int has_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && len - i >= 6 && memcmp(s + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* skip the escaped character ("\\\\" included) */
    }
    return 0;
}

size_t codat_utf8_repair(const char *s, size_t len, char *out, size_t cap)
{
    static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80)
            n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        const char *piece = s + i;
        size_t piece_len = n;
        if (c == 0 || (c >= 0x80 && (n == 1 || i + n > len || !codat_is_valid_utf8(s + i, n)))) {
            piece = replacement; /* a NUL would cut the C string short: it is replaced too */
            piece_len = 3;
            n = 1;
        }
        if (o + piece_len > cap - 1)
            break; /* never half a character */
        memcpy(out + o, piece, piece_len);
        o += piece_len;
        i += n;
    }
    out[o] = '\0';
    return o;
}

static cJSON *parse_object(const char *body, size_t len, const char **why)
{
    if (!body || len == 0) {
        *why = "unexpected response body (expected a JSON object, got an empty body)";
        return NULL;
    }
    /* JSON is UTF-8 (RFC 8259); a token with broken bytes must not come back silently repaired. */
    if (!codat_is_valid_utf8(body, len)) {
        *why = "unexpected response body (expected a JSON object; the body is not valid UTF-8)";
        return NULL;
    }
    /* Nor may it come back silently truncated at a NUL: cJSON keeps strings NUL-terminated, so a raw NUL
     * byte inside a string (a key or a value) cuts it short just like the escape does, and a key cut
     * short can even replace an earlier key. A raw NUL is invalid anywhere in JSON text. */
    if (has_nul_escape(body, len) || memchr(body, '\0', len)) {
        *why = "unexpected response body (a JSON string holds a NUL character)";
        return NULL;
    }
    *why = "unexpected response body (expected a JSON object)";
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (json) {
        /* Only whitespace may follow the value inside the body ("{...}x" is malformed JSON). */
        while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end != body + len) {
            cJSON_Delete(json);
            return NULL;
        }
    }
    if (json && !cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return NULL;
    }
    return json;
}

/* The string a token answer carries as accessToken, if any. Duplicate keys: the last one counts, as it
 * does once the object is a Python dict. */
static const cJSON *access_token(const cJSON *json)
{
    const cJSON *last = NULL;
    for (const cJSON *child = json->child; child; child = child->next)
        if (child->string && strcmp(child->string, "accessToken") == 0)
            last = child;
    return cJSON_IsString(last) ? last : NULL;
}

codat_outcome codat_classify(long status, const char *content_type, const char *body, size_t len,
                             cJSON **json_out)
{
    const char *why;
    return codat_classify_why(status, content_type, body, len, json_out, &why);
}

codat_outcome codat_classify_why(long status, const char *content_type, const char *body, size_t len,
                                 cJSON **json_out, const char **why)
{
    const char *ignored;
    *json_out = NULL;
    *why = NULL;
    if (status >= 200 && status < 300) {
        if (!codat_is_json_content_type(content_type)) {
            *why = content_type && *content_type
                ? "unexpected content type (expected application/json)"
                : "unexpected response (no content type; expected application/json)";
            return CODAT_SDK_ERROR;
        }
        cJSON *json = parse_object(body, len, why);
        if (!json)
            return CODAT_SDK_ERROR;
        /* Both token endpoints promise an accessToken string; a 2XX without one is no token. */
        if (!access_token(json)) {
            cJSON_Delete(json);
            *why = "the answer holds no accessToken string";
            return CODAT_SDK_ERROR;
        }
        *why = NULL;
        *json_out = json;
        return CODAT_OK;
    }
    if (codat_is_error_message_status(status) && codat_is_json_content_type(content_type)) {
        cJSON *json = parse_object(body, len, &ignored);
        if (json) {
            *json_out = json;
            return CODAT_ERROR_MESSAGE;
        }
    }
    /* 1XX, 3XX (redirects are never followed so the Authorization header stays put), other 4XX/5XX, and
     * bodies that are not the promised JSON object. */
    return CODAT_SDK_ERROR;
}
