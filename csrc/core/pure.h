/* pure.h: the core's pure helpers (no libcurl calls, no locks, no state), used by the core's own files and
 * unit-tested alone (tests/c) and fuzzed (fuzz/). Not part of the contract in codat.h: the binding does not
 * need them. */
#ifndef CODAT_PURE_H
#define CODAT_PURE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "codat.h"

/* server_url + path for an endpoint and company. NULL when out of memory. */
char *codat_build_url(const char *server_url, codat_endpoint which, const char *company_id);
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

/* Backoff before retry number `retry` (0 for the first retry), in ms, as codat-platform 6 computes it:
 * interval = min(initial * exponent^retry, max_interval), then a delay drawn in [interval/2, interval)
 * by jitter in [0, 1). */
long codat_backoff_delay_ms(const codat_retry_cfg *cfg, int retry, double jitter);
/* Parses a Retry-After value: delta seconds or an HTTP date (relative to now_s, Unix seconds).
 * Returns seconds >= 0, or -1 when absent or malformed. */
double codat_parse_retry_after(const char *value, double now_s);

#endif
