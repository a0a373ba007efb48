/* judge.h: what comes after one attempt. Pure: the facts an attempt left behind (attempt.c collects them
 * from libcurl), the call's retry policy and the clock go in; a verdict comes out. No libcurl calls, no
 * locks, no allocation but the parsed answer; unit-tested in tests/c/test_judge.c and fuzzed by
 * fuzz/fuzz_judge.c. The scheduler (sched.c) applies the verdict. */
#ifndef CODAT_JUDGE_H
#define CODAT_JUDGE_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "codat.h"

typedef struct {
    int curl_code;                /* the CURLcode the transfer ended with */
    const char *error_text;       /* what libcurl said about it (its error buffer, else curl_easy_strerror) */
    const char *code_text;        /* curl_easy_strerror(curl_code): names a dead kept-alive connection */
    long status;                  /* CURLINFO_RESPONSE_CODE: 0 when no status line came */
    const char *content_type;     /* NULL when absent */
    const char *body;             /* the body as received (redacted when the status is not 2XX) */
    size_t body_len;
    size_t headers_len;           /* bytes of the kept header block */
    int headers_complete;         /* the kept header block holds its closing blank line */
    int body_too_large;           /* the body (or the header block) passed max_body */
    int headers_too_large;        /* ... because of the header block */
    size_t max_body;
    long new_connections;         /* CURLINFO_NUM_CONNECTS: 0 when a kept-alive connection was reused */
    double retry_after_s;         /* Retry-After, < 0 when absent */
    int rate_limit_seen;          /* any X-Rate-Limit-* header came */
    /* Redacts the parsed answer's strings (a secret may hide in an escape only the parser resolves);
     * returns 0, or -1 when it could not (the answer must then not be shown). NULL: nothing to redact. */
    int (*redact_json)(void *ctx, cJSON *json);
    void *redact_ctx;
} attempt_facts;

typedef enum {
    VERDICT_DONE = 0,   /* the call ends with `outcome` */
    VERDICT_RETRY,      /* another attempt at retry_at_ms (a backoff, or Retry-After) */
    VERDICT_RESEND      /* the request never reached the server: send it again now, not counted */
} verdict_kind;

typedef struct {
    verdict_kind kind;
    codat_outcome outcome;        /* this attempt's (the call's when DONE) */
    long status;                  /* 0 when no HTTP answer counts */
    int curl_code;                /* CURLE_PARTIAL_FILE when the header block was cut short */
    cJSON *json;                  /* DONE only: the parsed answer (caller frees), else NULL */
    char message[256];            /* why, for errors; "" when there is nothing to say */
    int body_too_large;           /* the answer passed max_body (SDKError) */
    double delay_ms;              /* RETRY: the wait */
    double retry_at_ms;           /* RETRY: now + delay */
    double pause_until_ms;        /* > 0: a 429 named a Retry-After, hold back every start until then */
    int rate_limit_seen;          /* the answer's rate-limit figures are news for the client */
} judge_verdict;

/* Judges one attempt of a call that started at call_start_ms and has been retried retries_done times,
 * at now_ms, with jitter in [0, 1) for the backoff. */
void judge(const attempt_facts *facts, const codat_retry_cfg *retry, int retries_done, double call_start_ms,
           double now_ms, double jitter, judge_verdict *verdict);

/* Transport failures worth another attempt (CURLcode values). */
int judge_retryable_transport(int curl_code);
/* A short name for an outcome, for log lines. */
const char *judge_outcome_name(codat_outcome outcome);

#endif
