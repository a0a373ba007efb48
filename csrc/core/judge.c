/* judge.c: see judge.h. */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h> /* the CURLcode values only: nothing here calls libcurl */
#include "judge.h"
#include "backoff.h"
#include "classify.h"

int judge_retryable_transport(int curl_code)
{
    /* The network or the server may recover from these. Certificate and configuration errors never do, so
     * retrying them would only stall the caller for the whole budget. */
    switch (curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

const char *judge_outcome_name(codat_outcome o)
{
    switch (o) {
    case CODAT_OK: return "ok";
    case CODAT_ERROR_MESSAGE: return "ErrorMessage";
    case CODAT_SDK_ERROR: return "SDKError";
    case CODAT_TRANSPORT: return "TransportError";
    case CODAT_TIMEOUT: return "Timeout";
    case CODAT_CANCELLED: return "cancelled";
    case CODAT_BAD_INPUT: return "bad input";
    default: return "out of memory";
    }
}

/* A kept-alive connection that the server closed or reset while it sat in the pool: the request went out
 * on it and got nothing back (a broken pipe, a reset, or an empty reply). It never reached the server, so
 * it is sent again at once on another connection, as libcurl itself does for some of these cases: no
 * backoff, not counted as an attempt, and also with retries off. libcurl closed the dead connection, so
 * each such resend removes one from the pool and this ends. */
static int dead_kept_alive(const attempt_facts *f)
{
    return (f->curl_code == CURLE_SEND_ERROR || f->curl_code == CURLE_RECV_ERROR ||
            f->curl_code == CURLE_GOT_NOTHING) &&
           f->new_connections == 0 && f->headers_len == 0 && f->body_len == 0;
}

/* An HTTP answer that came whole: its outcome by the one classifier; whether the policy retries it. */
static int judge_answer(const attempt_facts *f, const codat_retry_cfg *retry, judge_verdict *v)
{
    const char *why = NULL;
    v->outcome = codat_classify_why(f->status, f->content_type, f->body, f->body_len, &v->json, &why);
    if (why)
        snprintf(v->message, sizeof v->message, "%s", why);
    if (v->json && f->redact_json && f->redact_json(f->redact_ctx, v->json) < 0) {
        cJSON_Delete(v->json);
        v->json = NULL;
        v->outcome = CODAT_NO_MEMORY;
    }
    return v->outcome != CODAT_OK && retry->enabled && f->status > 0 && f->status < CODAT_MAX_STATUS &&
           retry->retry_status[f->status];
}

/* No HTTP answer (or a cut-short one): a timeout or a transport error. */
static int judge_transport(const attempt_facts *f, const codat_retry_cfg *retry, judge_verdict *v)
{
    v->outcome = v->curl_code == CURLE_OPERATION_TIMEDOUT ? CODAT_TIMEOUT : CODAT_TRANSPORT;
    /* The error buffer names host and port at most; the request headers never reach it. */
    if (!v->message[0])
        snprintf(v->message, sizeof v->message, "%s", f->error_text ? f->error_text : "transport error");
    /* libcurl 7.x answers a header line over its 100 KB limit with "Out of memory" once the status line
     * has come; say what happened instead (a real allocation failure is far rarer). */
    if (v->curl_code == CURLE_OUT_OF_MEMORY && f->status > 0)
        snprintf(v->message, sizeof v->message, "a response header line is too long (libcurl's limit is 100 KB)");
    v->status = 0;
    return retry->enabled && retry->retry_connection_errors && judge_retryable_transport(v->curl_code);
}

/* Turns a retryable attempt into a RETRY verdict, unless the wait would pass the call's budget. */
static void schedule_retry(const attempt_facts *f, const codat_retry_cfg *retry, int retries_done,
                           double call_start_ms, double now_ms, double jitter, judge_verdict *v)
{
    double delay = (double)codat_backoff_delay_ms(retry, retries_done, jitter);
    /* Retry-After is a floor, not a replacement: "Retry-After: 0" on every answer must not turn the retry
     * loop into a tight one that hammers the server for the whole budget. */
    if (f->retry_after_s >= 0 && f->retry_after_s * 1000.0 > delay)
        delay = f->retry_after_s * 1000.0;
    /* Never sleep past the budget: a Retry-After of hours fails now, with the answer that asked for it. */
    if (now_ms + delay - call_start_ms > (double)retry->max_elapsed_ms)
        return;
    if (v->json)
        cJSON_Delete(v->json);
    v->json = NULL;
    v->kind = VERDICT_RETRY;
    v->delay_ms = delay;
    v->retry_at_ms = now_ms + delay;
    /* A 429 with Retry-After speaks for the account: every start waits, so a batch slows down instead of
     * hammering the server. */
    if (v->status == 429 && f->retry_after_s > 0)
        v->pause_until_ms = v->retry_at_ms;
}

void judge(const attempt_facts *f, const codat_retry_cfg *retry, int retries_done, double call_start_ms,
           double now_ms, double jitter, judge_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->status = f->status;
    v->curl_code = f->curl_code;
    v->rate_limit_seen = f->rate_limit_seen;
    v->body_too_large = f->body_too_large;
    if (dead_kept_alive(f)) {
        v->kind = VERDICT_RESEND;
        v->outcome = CODAT_TRANSPORT;
        snprintf(v->message, sizeof v->message, "%s", f->code_text ? f->code_text : "connection lost");
        return;
    }
    /* libcurl reports success when the connection closes inside the header block; that answer is cut short
     * like a truncated body, not a 2XX with an empty body. */
    if (v->curl_code == CURLE_OK && !f->body_too_large && !f->headers_complete) {
        v->curl_code = CURLE_PARTIAL_FILE;
        snprintf(v->message, sizeof v->message, "connection closed inside the response headers");
    }
    if (v->curl_code == CURLE_FILESIZE_EXCEEDED)
        v->body_too_large = 1;
    int retryable = 0;
    if (v->body_too_large) {
        v->outcome = CODAT_SDK_ERROR;
        snprintf(v->message, sizeof v->message, "response %s max_body_bytes (%zu bytes)",
                 f->headers_too_large ? "headers exceed" : "body exceeds", f->max_body);
    } else if (v->curl_code == CURLE_OK) {
        retryable = judge_answer(f, retry, v);
    } else {
        retryable = judge_transport(f, retry, v);
    }
    v->kind = VERDICT_DONE;
    if (retryable)
        schedule_retry(f, retry, retries_done, call_start_ms, now_ms, jitter, v);
}
