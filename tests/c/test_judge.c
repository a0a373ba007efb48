/* test_judge.c: the verdict after one attempt (csrc/core/judge.c), from the facts an attempt leaves: done
 * with an outcome, retry at a time, resend now, pause, rate-limit figures. */
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include "codat.h"
#include "judge.h"
#include "tinytest.h"

static const char TOKEN_BODY[] = "{\"accessToken\":\"tok\"}";
static const char ERROR_BODY[] = "{\"statusCode\":500,\"service\":\"x\",\"error\":\"boom\"}";

/* An attempt that got a whole HTTP answer. */
static attempt_facts answer(long status, const char *body)
{
    attempt_facts f;
    memset(&f, 0, sizeof f);
    f.curl_code = CURLE_OK;
    f.status = status;
    f.content_type = "application/json; charset=utf-8";
    f.body = body;
    f.body_len = strlen(body);
    f.headers_len = 100;
    f.headers_complete = 1;
    f.max_body = 4096;
    f.new_connections = 1;
    f.retry_after_s = -1;
    return f;
}

/* An attempt that got no answer. */
static attempt_facts failure(int code, const char *text)
{
    attempt_facts f;
    memset(&f, 0, sizeof f);
    f.curl_code = code;
    f.error_text = text;
    f.code_text = "libcurl's words";
    f.max_body = 4096;
    f.new_connections = 1;
    f.retry_after_s = -1;
    return f;
}

static codat_retry_cfg policy(void)
{
    codat_retry_cfg r;
    codat_retry_defaults(&r); /* 500 ms, x1.5, 60 s cap, 1 h budget, connection errors, 408, 429, 5XX */
    return r;
}

static void drop(judge_verdict *v)
{
    if (v->json)
        cJSON_Delete(v->json);
    v->json = NULL;
}

TT_TEST(a_token_is_done_ok_with_the_parsed_answer)
{
    attempt_facts f = answer(200, TOKEN_BODY);
    codat_retry_cfg r = policy();
    judge_verdict v;
    judge(&f, &r, 0, 1000, 1200, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_OK);
    TT_EQ_LONG(v.status, 200);
    TT_CHECK(v.json && cJSON_IsString(cJSON_GetObjectItem(v.json, "accessToken")));
    TT_EQ_STR(v.message, "");
    TT_EQ_LONG(v.pause_until_ms, 0);
    drop(&v);
}

TT_TEST(a_retried_status_waits_the_backoff)
{
    attempt_facts f = answer(500, ERROR_BODY);
    codat_retry_cfg r = policy();
    judge_verdict v;
    judge(&f, &r, 0, 1000, 1200, 0.0, &v); /* jitter 0: half the first interval */
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_LONG(v.outcome, CODAT_ERROR_MESSAGE);
    TT_EQ_DBL(v.delay_ms, 250);
    TT_EQ_DBL(v.retry_at_ms, 1450);
    TT_CHECK(v.json == NULL); /* a retried answer's parse is dropped */
    judge(&f, &r, 2, 1000, 1200, 0.999, &v); /* third retry: 500 * 1.5^2 = 1125, jitter near 1 */
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_CHECK(v.delay_ms >= 1124 && v.delay_ms < 1125);
}

TT_TEST(retry_after_is_a_floor_and_a_429_with_it_pauses)
{
    attempt_facts f = answer(429, "{\"statusCode\":429,\"error\":\"slow\"}");
    f.retry_after_s = 2.0;
    codat_retry_cfg r = policy();
    judge_verdict v;
    judge(&f, &r, 0, 0, 100, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_DBL(v.delay_ms, 2000);
    TT_EQ_DBL(v.pause_until_ms, 2100); /* every start of the batch waits as long */
    f.retry_after_s = 0; /* "Retry-After: 0": the backoff still holds, and no pause */
    judge(&f, &r, 0, 0, 100, 0.0, &v);
    TT_EQ_DBL(v.delay_ms, 250);
    TT_EQ_DBL(v.pause_until_ms, 0);
    f = answer(503, ERROR_BODY); /* a Retry-After on another status waits but does not pause the rest */
    f.retry_after_s = 3;
    judge(&f, &r, 0, 0, 100, 0.0, &v);
    TT_EQ_DBL(v.delay_ms, 3000);
    TT_EQ_DBL(v.pause_until_ms, 0);
}

TT_TEST(a_wait_past_the_budget_ends_with_the_answer)
{
    attempt_facts f = answer(503, ERROR_BODY);
    f.retry_after_s = 7200; /* two hours, against a one-hour budget */
    codat_retry_cfg r = policy();
    judge_verdict v;
    judge(&f, &r, 0, 0, 100, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_ERROR_MESSAGE);
    TT_CHECK(v.json != NULL); /* the caller sees the answer that asked for the wait */
    drop(&v);
    f.retry_after_s = -1;
    judge(&f, &r, 0, 0, 3600000 - 100, 0.0, &v); /* 250 ms more would pass the hour */
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    drop(&v);
    judge(&f, &r, 0, 0, 3600000 - 250, 0.0, &v); /* exactly at the budget: still allowed */
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
}

TT_TEST(no_retry_when_off_or_not_listed)
{
    attempt_facts f = answer(500, ERROR_BODY);
    codat_retry_cfg r = policy();
    r.enabled = 0;
    judge_verdict v;
    judge(&f, &r, 0, 0, 0, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_ERROR_MESSAGE);
    drop(&v);
    r = policy();
    f = answer(404, "{\"statusCode\":404,\"error\":\"no such company\"}");
    judge(&f, &r, 0, 0, 0, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_ERROR_MESSAGE);
    drop(&v);
    f = answer(200, "{\"nothing\":1}"); /* a 2XX without a token is an SDKError that says why */
    judge(&f, &r, 0, 0, 0, 0.5, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_SDK_ERROR);
    TT_CHECK(strstr(v.message, "accessToken") != NULL);
    drop(&v);
}

TT_TEST(a_dead_kept_alive_connection_is_resent_at_once)
{
    static const int codes[] = {CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_GOT_NOTHING};
    codat_retry_cfg r = policy();
    r.enabled = 0; /* resent even with retries off: the request never reached the server */
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        attempt_facts f = failure(codes[i], "Connection reset");
        f.new_connections = 0;
        judge_verdict v;
        judge(&f, &r, 0, 0, 0, 0.5, &v);
        TT_EQ_LONG(v.kind, VERDICT_RESEND);
        TT_EQ_STR(v.message, "libcurl's words");
        f.new_connections = 1; /* a fresh connection failed: a transport error, not resent */
        judge(&f, &r, 0, 0, 0, 0.5, &v);
        TT_EQ_LONG(v.kind, VERDICT_DONE);
        TT_EQ_LONG(v.outcome, CODAT_TRANSPORT);
        f.new_connections = 0;
        f.headers_len = 10; /* part of an answer came: it did reach the server */
        judge(&f, &r, 0, 0, 0, 0.5, &v);
        TT_EQ_LONG(v.kind, VERDICT_DONE);
    }
}

TT_TEST(transport_errors_retry_only_when_the_network_may_recover)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = failure(CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 9");
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_LONG(v.outcome, CODAT_TRANSPORT);
    TT_EQ_STR(v.message, "Failed to connect to 127.0.0.1 port 9");
    f = failure(CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem");
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE); /* a certificate does not get better */
    TT_EQ_LONG(v.outcome, CODAT_TRANSPORT);
    f = failure(CURLE_COULDNT_CONNECT, "refused");
    r.retry_connection_errors = 0;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(judge_retryable_transport(CURLE_HTTP2_STREAM), 1);
    TT_EQ_LONG(judge_retryable_transport(CURLE_URL_MALFORMAT), 0);
}

TT_TEST(a_timeout_is_its_own_outcome_and_is_retried)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = failure(CURLE_OPERATION_TIMEDOUT, "Operation timed out after 100 milliseconds");
    f.status = 200; /* the status line came, the body did not: still no answer */
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_LONG(v.outcome, CODAT_TIMEOUT);
    TT_EQ_LONG(v.status, 0);
    r.enabled = 0;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_TIMEOUT);
}

TT_TEST(headers_cut_short_are_a_partial_answer)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = answer(200, "");
    f.headers_complete = 0; /* libcurl said OK, but the blank line never came */
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_LONG(v.curl_code, CURLE_PARTIAL_FILE);
    TT_EQ_LONG(v.outcome, CODAT_TRANSPORT);
    TT_EQ_STR(v.message, "connection closed inside the response headers");
    r.enabled = 0;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_STR(v.message, "connection closed inside the response headers");
}

TT_TEST(too_large_is_an_sdk_error_never_retried)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = answer(500, ERROR_BODY);
    f.curl_code = CURLE_WRITE_ERROR;
    f.body_too_large = 1;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_EQ_LONG(v.outcome, CODAT_SDK_ERROR);
    TT_CHECK(v.body_too_large);
    TT_EQ_STR(v.message, "response body exceeds max_body_bytes (4096 bytes)");
    f.headers_too_large = 1;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_STR(v.message, "response headers exceed max_body_bytes (4096 bytes)");
    f = answer(200, TOKEN_BODY); /* libcurl's own size check (Content-Length over the limit) */
    f.curl_code = CURLE_FILESIZE_EXCEEDED;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.outcome, CODAT_SDK_ERROR);
    TT_CHECK(v.body_too_large);
    TT_CHECK(v.json == NULL);
}

TT_TEST(libcurls_out_of_memory_after_a_status_line_is_a_long_header)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = failure(CURLE_OUT_OF_MEMORY, "Out of memory");
    f.status = 200;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_DONE);
    TT_CHECK(strstr(v.message, "header line is too long") != NULL);
    f.status = 0;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_STR(v.message, "Out of memory");
}

static int redact_fails(void *ctx, cJSON *json)
{
    (void)json;
    ++*(int *)ctx;
    return -1;
}

static int redact_counts(void *ctx, cJSON *json)
{
    (void)json;
    ++*(int *)ctx;
    return 0;
}

TT_TEST(an_answer_that_cannot_be_redacted_is_not_shown)
{
    codat_retry_cfg r = policy();
    r.enabled = 0;
    judge_verdict v;
    int calls = 0;
    attempt_facts f = answer(401, "{\"statusCode\":401,\"error\":\"bad key\"}");
    f.redact_json = redact_counts;
    f.redact_ctx = &calls;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(calls, 1);
    TT_EQ_LONG(v.outcome, CODAT_ERROR_MESSAGE);
    TT_CHECK(v.json != NULL);
    drop(&v);
    f.redact_json = redact_fails;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(calls, 2);
    TT_EQ_LONG(v.outcome, CODAT_NO_MEMORY);
    TT_CHECK(v.json == NULL);
}

TT_TEST(rate_limit_figures_travel_up_whatever_the_verdict)
{
    codat_retry_cfg r = policy();
    judge_verdict v;
    attempt_facts f = answer(200, TOKEN_BODY);
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.rate_limit_seen, 0);
    drop(&v);
    f.rate_limit_seen = 1;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.rate_limit_seen, 1);
    drop(&v);
    f = answer(429, "{\"statusCode\":429,\"error\":\"slow\"}");
    f.rate_limit_seen = 1;
    judge(&f, &r, 0, 0, 0, 0.0, &v);
    TT_EQ_LONG(v.kind, VERDICT_RETRY);
    TT_EQ_LONG(v.rate_limit_seen, 1);
}

TT_TEST(outcome_names)
{
    TT_EQ_STR(judge_outcome_name(CODAT_OK), "ok");
    TT_EQ_STR(judge_outcome_name(CODAT_TIMEOUT), "Timeout");
    TT_EQ_STR(judge_outcome_name(CODAT_NO_MEMORY), "out of memory");
}

int main(void)
{
    TT_RUN(a_token_is_done_ok_with_the_parsed_answer);
    TT_RUN(a_retried_status_waits_the_backoff);
    TT_RUN(retry_after_is_a_floor_and_a_429_with_it_pauses);
    TT_RUN(a_wait_past_the_budget_ends_with_the_answer);
    TT_RUN(no_retry_when_off_or_not_listed);
    TT_RUN(a_dead_kept_alive_connection_is_resent_at_once);
    TT_RUN(transport_errors_retry_only_when_the_network_may_recover);
    TT_RUN(a_timeout_is_its_own_outcome_and_is_retried);
    TT_RUN(headers_cut_short_are_a_partial_answer);
    TT_RUN(too_large_is_an_sdk_error_never_retried);
    TT_RUN(libcurls_out_of_memory_after_a_status_line_is_a_long_header);
    TT_RUN(an_answer_that_cannot_be_redacted_is_not_shown);
    TT_RUN(rate_limit_figures_travel_up_whatever_the_verdict);
    TT_RUN(outcome_names);
    return tt_summary();
}
