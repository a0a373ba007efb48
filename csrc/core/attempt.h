/* attempt.h: one call's request (a job) and each attempt of it on a libcurl easy handle. attempt.c starts an
 * attempt on a multi handle and, when libcurl says it ended, collects its facts for the judge (judge.h); it
 * fills the call's result when the scheduler says the call is done. It calls neither the client nor the
 * scheduler: what an attempt means for them (a retry, a pause, rate-limit figures) travels up as a verdict. */
#ifndef CODAT_ATTEMPT_H
#define CODAT_ATTEMPT_H

#include <stdint.h>
#include <curl/curl.h>
#include "internal.h"
#include "judge.h"
#include "redact.h"
#include "slots.h"

/* What every attempt of a client's calls needs; the client owns it and never changes it after
 * codat_client_new (but for share, re-made in a forked child). */
typedef struct {
    char *server_url;
    long timeout_ms;
    size_t max_body;
    codat_retry_cfg retry;
    struct curl_slist *base_headers;
    codat_secrets secrets;        /* what the Authorization and the proxies' userinfo give away (redact.h) */
    CURLSH *share;
    char *ca_bundle, *ca_dir;
    char *proxy_http, *proxy_https, *no_proxy; /* from the environment when the client was made */
    int verify;
} attempt_settings;

/* Idle easy handles of one multi handle: a handle keeps its settings between attempts. */
typedef struct {
    CURL *idle[CODAT_MAX_IDLE_EASY];
    int n;
} easy_pool;
void easy_pool_free(easy_pool *p);

typedef enum {
    JOB_QUEUED = 0,   /* not started yet */
    JOB_RUNNING,      /* an attempt is in flight */
    JOB_WAITING,      /* a retry (or a resend) due at next_at_ms */
    JOB_SLOT_WAIT,    /* in its company's wait list for a slot */
    JOB_DONE
} job_state;

typedef struct codat_job codat_job;
struct codat_job {
    /* The request. */
    char *url;
    struct curl_slist *headers;   /* owned; NULL means the client's base headers */
    const struct curl_slist *base_headers; /* the client's: their Authorization is redacted too */
    const codat_secrets *client_secrets; /* the client's, when the call adds no headers */
    codat_secrets secrets;        /* with headers of its own: every Authorization it could have sent */
    int secrets_state;            /* 0 not built, 1 built, -1 out of memory (then nothing is shown) */
    int https;                    /* the URL is https://: picks the client's proxy, and PIPEWAIT */
    uint64_t company_key;         /* codat_company_key(company id): its slot in the client's table */
    long timeout_ms;
    codat_retry_cfg retry;
    size_t max_body;

    /* The attempt in progress. */
    CURL *easy;
    growbuf body, hdrs;
    double retry_after_s;
    int body_too_large;
    int headers_too_large;        /* body_too_large because of the header block */
    int redacted;                 /* this attempt's body and headers were scanned for secrets */
    long rl_limit, rl_remaining;
    char rl_reset[64];
    char errbuf[CURL_ERROR_SIZE];
    double attempt_start_ms;

    /* The scheduler's (sched.c). */
    job_state state;
    double start_ms, next_at_ms;
    int retries_done;
    int holds_slot;               /* this attempt counts toward the company's limit */
    int waited_for_slot;          /* logged once */
    company_waiter waiter;        /* in the company's wait list while JOB_SLOT_WAIT */
    codat_job *prev, *next;       /* in one of the scheduler's lists; `next` also links the async queue */
    unsigned char list;           /* which list */

    codat_log_fn log;
    void *log_ctx;
    int log_level;

    codat_result *out;
    /* Asynchronous calls only. */
    codat_done_fn done;
    void *done_ctx;
    unsigned long long id;
};

/* Fills a job for one company and endpoint with the client's settings and the call's overrides. Returns 0,
 * or -1 when out of memory (job_release still frees what was made). */
int job_prepare(codat_job *job, const attempt_settings *net, codat_endpoint which, const char *company_id,
                const codat_call_opts *opts, codat_result *out);
void job_release(codat_job *job);

/* Starts an attempt on multi: 0, or -1 when out of memory. */
int attempt_start(CURLM *multi, easy_pool *pool, const attempt_settings *net, codat_job *job);
/* libcurl said the attempt ended with `code`: fills facts (pointing into job and its easy handle, good until
 * attempt_detach), the body already redacted when the status is not 2XX. */
void attempt_collect(codat_job *job, CURLcode code, attempt_facts *facts);
/* Takes the easy handle off multi and back to the pool. */
void attempt_detach(CURLM *multi, easy_pool *pool, codat_job *job);
/* Logs what the verdict says about this attempt (at the levels the call asked for). */
void attempt_log_verdict(const codat_job *job, const judge_verdict *v, double now_ms);
/* Logs, once per call, that it waits for one of the company's `limit` slots. */
void attempt_log_slot_wait(codat_job *job, unsigned limit);
/* The call is done with the verdict's outcome: fills job->out (handing the buffers and the parsed answer
 * over) and sets JOB_DONE. */
void attempt_finish(codat_job *job, const judge_verdict *v);
/* Ends the call early (cancel, close, out of memory) with that outcome; the easy handle, if any, must have
 * been detached. */
void attempt_abort(codat_job *job, codat_outcome outcome, const char *message);

#endif
