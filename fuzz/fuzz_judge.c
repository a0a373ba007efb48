/* fuzz_judge.c: libFuzzer target for judge (csrc/core/judge.c): every verdict the facts of one attempt can
 * lead to.
 *
 * The first 24 bytes pick the facts (libcurl's code, the status, which flags are set, Retry-After, the
 * retries done, the jitter, the clock, whether redaction fails); of the rest, up to the first NUL is the
 * content type and what follows the body. Checked on every input: the verdict is one of the three kinds; a
 * retry is never scheduled past the budget or with retries off, waits at least Retry-After, and carries no
 * parsed answer; only a 429 with a Retry-After pauses; a resend is only for a dead kept-alive connection;
 * a parsed answer comes only with CODAT_OK (a 2XX token) or CODAT_ERROR_MESSAGE; a failed redaction never
 * shows the answer; the message is a terminated string. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "codat.h"
#include "judge.h"

static const int CODES[] = {CURLE_OK, CURLE_OK, CURLE_OK, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT,
                            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                            CURLE_WRITE_ERROR, CURLE_FILESIZE_EXCEEDED, CURLE_OUT_OF_MEMORY,
                            CURLE_PEER_FAILED_VERIFICATION, CURLE_HTTP2_STREAM};

static int redact_fail(void *ctx, cJSON *json)
{
    (void)ctx;
    (void)json;
    return -1;
}

static int redact_ok(void *ctx, cJSON *json)
{
    (void)ctx;
    (void)json;
    return 0;
}

static uint32_t u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void facts_from(const uint8_t *d, attempt_facts *f, codat_retry_cfg *r)
{
    memset(f, 0, sizeof *f);
    f->curl_code = d[0] < 200 ? CODES[d[0] % (sizeof CODES / sizeof *CODES)] : d[0] - 200;
    f->error_text = "libcurl said so";
    f->code_text = "libcurl's name for it";
    f->status = (long)(d[1] | d[2] << 8) % 700;
    f->headers_len = d[3] & 1 ? 0 : 120;
    f->headers_complete = (d[3] >> 1) & 1;
    f->body_too_large = (d[3] >> 2) & 1;
    f->headers_too_large = (d[3] >> 3) & 1;
    f->new_connections = (d[3] >> 4) & 1;
    f->rate_limit_seen = (d[3] >> 5) & 1;
    f->redact_json = (d[3] >> 6) & 1 ? redact_fail : redact_ok;
    f->max_body = 1u << (d[4] % 24);
    f->retry_after_s = d[5] == 255 ? -1 : (double)(u32(d + 6) % 100000) / 10.0;
    codat_retry_defaults(r);
    r->enabled = d[10] & 1;
    r->retry_connection_errors = (d[10] >> 1) & 1;
    r->max_elapsed_ms = (long)(u32(d + 11) % 10000000);
    r->initial_interval_ms = 1 + d[15] * 10;
}

static void check(const attempt_facts *f, const codat_retry_cfg *r, double start, double now,
                  const judge_verdict *v)
{
    if (v->kind != VERDICT_DONE && v->kind != VERDICT_RETRY && v->kind != VERDICT_RESEND)
        abort();
    if (memchr(v->message, '\0', sizeof v->message) == NULL)
        abort();
    if (v->outcome < CODAT_OK || v->outcome > CODAT_NO_MEMORY)
        abort();
    if (v->json && v->outcome != CODAT_OK && v->outcome != CODAT_ERROR_MESSAGE)
        abort();
    if (v->outcome == CODAT_OK && (v->kind != VERDICT_DONE || !v->json || v->status < 200 || v->status > 299))
        abort();
    if (v->json && f->redact_json == redact_fail)
        abort();
    if (v->kind == VERDICT_RESEND && (f->new_connections != 0 || f->headers_len || f->body_len))
        abort();
    if (v->kind != VERDICT_RETRY && (v->pause_until_ms != 0 || v->json != NULL) && v->kind != VERDICT_DONE)
        abort();
    if (v->kind == VERDICT_RETRY) {
        if (!r->enabled || v->json || !(v->delay_ms >= 0) || v->retry_at_ms != now + v->delay_ms)
            abort();
        if (v->retry_at_ms - start > (double)r->max_elapsed_ms)
            abort();
        if (f->retry_after_s >= 0 && v->delay_ms < f->retry_after_s * 1000.0)
            abort();
    }
    if (v->pause_until_ms != 0 && (v->kind != VERDICT_RETRY || v->status != 429 || !(f->retry_after_s > 0) ||
                                   v->pause_until_ms != v->retry_at_ms))
        abort();
    if (v->rate_limit_seen != f->rate_limit_seen)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 24)
        return 0;
    attempt_facts f;
    codat_retry_cfg r;
    facts_from(data, &f, &r);
    int retries_done = data[16] % 40;
    double jitter = data[17] / 256.0;
    double start = (double)(u32(data + 18) % 1000000);
    double now = start + (double)(data[22] | data[23] << 8) * 100.0;
    const char *rest = (const char *)data + 24;
    size_t rest_len = size - 24;
    const char *nul = memchr(rest, '\0', rest_len);
    char *content_type = NULL;
    if (nul) {
        content_type = strdup(rest);
        if (!content_type)
            return 0;
        rest_len -= (size_t)(nul - rest) + 1;
        rest = nul + 1;
    }
    f.content_type = content_type;
    f.body = rest;
    f.body_len = rest_len;
    judge_verdict v;
    judge(&f, &r, retries_done, start, now, jitter, &v);
    check(&f, &r, start, now, &v);
    if (v.json)
        cJSON_Delete(v.json);
    free(content_type);
    return 0;
}
