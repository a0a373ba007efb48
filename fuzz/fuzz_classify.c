/* fuzz_classify.c: libFuzzer target for codat_classify / codat_is_json_content_type (csrc/core/classify.c).
 *
 * Input layout:
 *   byte 0     status: below 0xE0 it indexes STATUSES (mod its size); from 0xE0 on, bytes 0-1 give a raw
 *              status ((b0 & 0x1F) << 8 | b1) - 1000, so -1000 .. 7191 (byte 1 is then consumed)
 *   next byte  content type: below 0x80 it indexes CTYPES (mod its size); from 0x80 on, the low 7 bits
 *              are a length n and the next n bytes are the content type itself (NUL-terminated copy)
 *   the rest   the body, handed over in an exactly-sized heap buffer with no terminator, so ASan sees
 *              any read past len
 * Invariants checked (abort on violation): the outcome is one of the three classify outcomes; *json_out is
 * set exactly for CODAT_OK / CODAT_ERROR_MESSAGE and is then an object; CODAT_OK only for 2XX with a JSON
 * content type; CODAT_ERROR_MESSAGE only for the seven ErrorMessage statuses with a JSON content type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "classify.h"

static const long STATUSES[] = {200, 201, 204, 299, 401, 402, 403, 404, 429, 500, 503, 400, 408, 418, 502, 504,
                                100, 101, 199, 300, 301, 302, 304, 399, 499, 599, 600, 0, -1, 999, 1000, 2147483647L};
static const char *const CTYPES[] = {
    "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", " application/json ",
    "application/json;", "application/jsonp", "application/problem+json", "text/plain", "text/html", "",
    NULL,
};
#define N_STATUSES (sizeof STATUSES / sizeof STATUSES[0])
#define N_CTYPES (sizeof CTYPES / sizeof CTYPES[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    long status = 200;
    if (pos < size) {
        uint8_t b0 = data[pos++];
        if (b0 < 0xE0) {
            status = STATUSES[b0 % N_STATUSES];
        } else {
            uint8_t b1 = pos < size ? data[pos++] : 0;
            status = (long)(((b0 & 0x1F) << 8) | b1) - 1000;
        }
    }
    const char *ctype = CTYPES[0];
    char *ctype_copy = NULL;
    if (pos < size) {
        uint8_t c = data[pos++];
        if (c < 0x80) {
            ctype = CTYPES[c % N_CTYPES];
        } else {
            size_t n = c & 0x7F;
            if (n > size - pos)
                n = size - pos;
            ctype_copy = malloc(n + 1);
            if (!ctype_copy)
                return 0;
            memcpy(ctype_copy, data + pos, n);
            ctype_copy[n] = '\0';
            pos += n;
            ctype = ctype_copy;
        }
    }
    size_t len = size - pos;
    char *body = malloc(len ? len : 1);
    if (!body) {
        free(ctype_copy);
        return 0;
    }
    if (len)
        memcpy(body, data + pos, len);

    int is_json = codat_is_json_content_type(ctype);
    cJSON *json = (cJSON *)(uintptr_t)1; /* must be overwritten */
    codat_outcome o = codat_classify(status, ctype, body, len, &json);
    if (o != CODAT_OK && o != CODAT_ERROR_MESSAGE && o != CODAT_SDK_ERROR)
        abort();
    if (o == CODAT_OK || o == CODAT_ERROR_MESSAGE) {
        if (!json || !cJSON_IsObject(json) || !is_json)
            abort();
    } else if (json != NULL) {
        abort();
    }
    if (o == CODAT_OK && !(status >= 200 && status < 300))
        abort();
    if (o == CODAT_ERROR_MESSAGE && !codat_is_error_message_status(status))
        abort();
    /* A NULL body must behave like an empty one. */
    if (len == 0) {
        cJSON *j2 = NULL;
        if (codat_classify(status, ctype, NULL, 0, &j2) != o || j2)
            abort();
    }
    cJSON_Delete(json);
    free(body);
    free(ctype_copy);
    return 0;
}
