/* internal.h: what the core's own files share; not part of the contract in codat.h. */
#ifndef CODAT_INTERNAL_H
#define CODAT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <curl/curl.h>
#include "codat.h"
#include "slots.h"
#include "redact.h"

#define CODAT_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
#define CODAT_CANCEL_POLL_MS 50
#define CODAT_PROGRESS_MS 100
#define CODAT_MAX_IDLE_ENGINES 64
#define CODAT_MAX_IDLE_EASY 32
#define CODAT_ASYNC_CONCURRENCY CODAT_DEFAULT_CONCURRENCY /* awaits in flight: the batches' default too */
#define CODAT_COMPANY_LIMIT 10             /* Codat: at most 10 concurrent requests per company */
#define CODAT_SLOT_RECHECK_MS 5            /* how often a job waiting for a company slot looks again */
#define CODAT_MAX_BATCH_THREADS 64
#define CODAT_AUTO_MAX_THREADS 4          /* threads=auto never uses more */
#define CODAT_AUTO_JOBS_PER_THREAD 256    /* below this a thread costs more than it saves */
#define CODAT_AUTO_SLOTS_PER_THREAD 4     /* each thread keeps at least this many transfers in flight */

typedef struct {
    char *data;
    size_t len, cap;
} growbuf;

int growbuf_append(growbuf *b, const char *data, size_t n); /* 0, or -1 when out of memory */
void growbuf_free(growbuf *b);

typedef enum { JOB_QUEUED = 0, JOB_RUNNING, JOB_WAITING, JOB_DONE } job_state;

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
    int holds_slot;               /* this attempt counts toward the company's limit */
    int waited_for_slot;          /* logged once */
    long timeout_ms;
    codat_retry_cfg retry;
    size_t max_body;

    /* The transfer in progress. */
    CURL *easy;
    job_state state;
    double start_ms, next_at_ms;
    int retries_done;
    growbuf body, hdrs;
    double retry_after_s;
    int body_too_large;
    int headers_too_large;        /* body_too_large because of the header block */
    int redacted;                 /* this attempt's body and headers were scanned for secrets */
    long rl_limit, rl_remaining;
    char rl_reset[64];
    char errbuf[CURL_ERROR_SIZE];

    double attempt_start_ms;
    codat_log_fn log;
    void *log_ctx;
    int log_level;

    codat_result *out;
    /* Asynchronous calls only. */
    codat_done_fn done;
    void *done_ctx;
    unsigned long long id;
    codat_job *next;
};

/* One call's jobs, shared by the threads that run them. Each thread claims the next unclaimed job when
 * it has a free slot, so a thread that meets slow companies simply claims fewer. */
typedef struct codat_batch codat_batch;
struct codat_batch {
    codat_job **jobs;
    size_t n;
    atomic_size_t next_claim;     /* jobs[next_claim..n) are not yet claimed */
    atomic_size_t done;           /* jobs finished, over all threads */
    atomic_int stop;              /* cancelled: each thread aborts what it holds and returns */
    _Atomic double paused_until_ms; /* a 429 with Retry-After met by any thread pauses them all */
    CURLM *leader_multi;          /* the calling thread's; woken when a helper returns */
    CURLM *helper_multis[CODAT_MAX_BATCH_THREADS]; /* woken when the batch is cancelled */
    int n_helpers;
};

typedef struct codat_engine codat_engine;
struct codat_engine {
    codat_client *client;
    CURLM *multi;
    CURL *idle_easy[CODAT_MAX_IDLE_EASY];
    int n_idle_easy;
    uint64_t rng;
    double paused_until_ms;       /* a 429 with Retry-After holds back every new attempt until then */
    codat_batch *batch;           /* the batch this engine is running, if any */
    codat_engine *next;
};

struct codat_client {
    pthread_mutex_t lock;         /* guards the pool, rate_limit and the async queue */
    pthread_mutex_t close_lock;   /* one close() at a time (it may join the I/O thread); never taken by it */
    unsigned fork_generation;     /* the process generation the handles below belong to */
    atomic_int closed;            /* set under lock, together with io_stop; read anywhere */
    char *server_url;
    char *auth_header;            /* kept only to redact it from error bodies */
    codat_secrets secrets;        /* what auth_header gives away (redact.h), for every call to redact */
    char *ca_bundle;
    char *ca_dir;
    char *user_agent;
    char *proxy_http, *proxy_https, *no_proxy; /* from the environment when the client was made */
    int verify;
    long timeout_ms;
    size_t max_body;
    codat_retry_cfg retry;
    struct curl_slist *base_headers;
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    codat_engine *idle_engines;
    int n_idle_engines;
    codat_rate_limit rate_limit;
    pthread_mutex_t slots_lock;   /* guards slots only: taken for a moment at each attempt's start and end */
    codat_slots slots;            /* requests in flight per company */
    unsigned company_limit;

    /* The asynchronous I/O thread. Only under lock: the thread is woken (curl_multi_wakeup) only through
     * io_engine, which the thread itself clears before freeing its engine as it ends. */
    int io_started;               /* the thread runs (or has yet to be joined) */
    pthread_t io_thread;
    codat_engine *io_engine;      /* the thread's own engine; NULL once it is being freed */
    codat_job *io_incoming;       /* submitted, not yet seen by the I/O thread */
    unsigned long long io_next_id;
    unsigned long long *io_cancels; /* ids asked to stop, not yet seen by the I/O thread */
    size_t io_n_cancels, io_cap_cancels;
    int io_stop;
    int io_joining;               /* a close() on another thread has committed to join the thread */
    int io_detached;              /* closed from the thread itself: it ends on its own, nobody joins it */
    int io_free_pending;          /* codat_client_free ran while a detached thread or an evloop lived: the
                                   * last of them frees the client */
    int evloop_holds;             /* event-loop drivers alive (evloop.c): each keeps the client's memory */
};

double codat_now_ms(void);
unsigned codat_fork_generation(void);

/* client.c */
codat_engine *engine_acquire(codat_client *c);
void engine_release(codat_client *c, codat_engine *e);
codat_engine *engine_new(codat_client *c);
void engine_free(codat_engine *e);
void client_note_rate_limit(codat_client *c, const codat_job *job);
/* An event-loop driver (evloop.c) keeps the client's memory, not its open state, until it is freed:
 * codat_client_free then leaves the freeing to the last client_unhold. */
void client_hold(codat_client *c);
void client_unhold(codat_client *c);
/* The end of the I/O thread: frees its engine and, when the client was freed from that thread, the client. */
void client_io_thread_exit(codat_client *c, codat_engine *e);

/* transfer.c */
int job_init(codat_job *job, codat_client *c, codat_endpoint which, const char *company_id,
             const codat_call_opts *opts, codat_result *out);
void job_release(codat_job *job);
/* 0: the attempt is running; 1: the company already has company_limit requests in flight, so the job
 * was left JOB_WAITING to look again in CODAT_SLOT_RECHECK_MS; -1: out of memory. */
int job_start_attempt(codat_engine *e, codat_job *job);
/* Called when libcurl says the attempt ended: classifies it, then either schedules a retry (state
 * JOB_WAITING, next_at_ms set) or fills job->out (state JOB_DONE). */
void job_finish_attempt(codat_engine *e, codat_job *job, CURLcode code);
/* Ends a job early (cancel, out of memory) with the given outcome. */
void job_abort(codat_engine *e, codat_job *job, codat_outcome outcome, const char *message);

/* engine.c */
/* Records a Retry-After pause on e and, in a batch, on every engine of the batch. */
void engine_note_pause(codat_engine *e, double until_ms);
/* Runs this thread's share of batch b on e, at most `concurrency` transfers at once; `mine` has room for
 * b->n job pointers (it may be b->jobs itself when this is the batch's only thread). The leader is the
 * calling thread: it alone runs cancel and progress, and it returns only once every job of the batch is
 * done (or cancelled). Returns CODAT_OK, or CODAT_CANCELLED when the batch was cancelled (this thread's
 * unfinished jobs then end CODAT_CANCELLED; jobs nobody claimed are left to the caller). */
codat_outcome engine_run(codat_engine *e, codat_batch *b, codat_job **mine, int concurrency, int leader,
                         codat_cancel_fn cancel, codat_progress_fn progress, void *ctx);
void *io_thread_main(void *arg);

#endif
