/* classify.c: the one place that knows how an HTTP answer maps onto the API's promises, shared by the
 * blocking, batch and asynchronous paths. A pure function of (status, content type, body). */
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "codat.h"

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

static cJSON *parse_object(const char *body, size_t len)
{
    if (!body || len == 0)
        return NULL;
    /* JSON is UTF-8 (RFC 8259); a token with broken bytes must not come back silently repaired. */
    if (!codat_is_valid_utf8(body, len))
        return NULL;
    /* Nor may it come back silently truncated at an escaped NUL. */
    if (has_nul_escape(body, len))
        return NULL;
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

codat_outcome codat_classify(long status, const char *content_type, const char *body, size_t len,
                             cJSON **json_out)
{
    *json_out = NULL;
    if (status >= 200 && status < 300) {
        if (!codat_is_json_content_type(content_type))
            return CODAT_SDK_ERROR;
        cJSON *json = parse_object(body, len);
        if (!json)
            return CODAT_SDK_ERROR;
        *json_out = json;
        return CODAT_OK;
    }
    if (codat_is_error_message_status(status) && codat_is_json_content_type(content_type)) {
        cJSON *json = parse_object(body, len);
        if (json) {
            *json_out = json;
            return CODAT_ERROR_MESSAGE;
        }
    }
    /* 1XX, 3XX (redirects are never followed so the Authorization header stays put), other 4XX/5XX, and
     * bodies that are not the promised JSON object. */
    return CODAT_SDK_ERROR;
}
