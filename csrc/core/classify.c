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

static cJSON *parse_object(const char *body, size_t len)
{
    if (!body || len == 0)
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
