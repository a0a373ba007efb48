/* classify.h: what one HTTP answer is (classify.c). Pure; tests/c/test_classify.c, fuzz/fuzz_classify.c. */
#ifndef CODAT_CLASSIFY_H
#define CODAT_CLASSIFY_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "codat.h"

/* Whether a content type is application/json (parameters and case ignored). */
int codat_is_json_content_type(const char *content_type);
/* The outcome of one HTTP answer; when it returns CODAT_OK or CODAT_ERROR_MESSAGE, *json_out holds the
 * parsed object (the caller frees it). */
codat_outcome codat_classify(long status, const char *content_type, const char *body, size_t len,
                             cJSON **json_out);
/* codat_classify, with *why set to a static sentence saying what was wrong for a CODAT_SDK_ERROR on a 2XX
 * (e.g. "the answer holds no accessToken string"), else NULL. A 2XX is CODAT_OK only with an
 * application/json object whose accessToken is a string. */
codat_outcome codat_classify_why(long status, const char *content_type, const char *body, size_t len,
                                 cJSON **json_out, const char **why);
/* Copies s[0..len) into out (cap bytes, NUL-terminated), each broken UTF-8 byte and each NUL replaced by
 * U+FFFD, stopping before a character that would not fit whole. Returns the bytes written. */
size_t codat_utf8_repair(const char *s, size_t len, char *out, size_t cap);
/* Whether s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int codat_is_valid_utf8(const char *s, size_t len);
/* Whether the status is an ErrorMessage status (401, 402, 403, 404, 429, 500, 503). */
int codat_is_error_message_status(long status);

#endif
