/* codat.h: the public contract of the C core.
 *
 * The core fetches Codat access tokens over libcurl and parses them with cJSON. It knows nothing of
 * Python: no Python.h is included anywhere under csrc/core, every allocation is plain malloc, and all
 * blocking happens here so that the binding can release the GIL around each call.
 *
 * Thread safety: a codat_client may be used by many threads at once. Each call borrows a scheduler
 * (a libcurl multi handle with its own connection cache and a few easy handles) from the client's
 * pool, so concurrent calls never share a live connection, which libcurl forbids.
 */
#ifndef CODAT_CORE_H
#define CODAT_CORE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The two token endpoints. */
typedef enum {
    CODAT_EP_CONNECTION_MANAGEMENT = 0, /* GET /companies/{id}/connectionManagement/accessToken (deprecated) */
    CODAT_EP_COMPANY = 1                /* GET /companies/{id}/accessToken (its replacement) */
} codat_endpoint;

typedef enum {
    CODAT_OK = 0,          /* 2XX with a JSON object body holding an accessToken string: json holds it */
    CODAT_ERROR_MESSAGE,   /* 401/402/403/404/429/500/503 with an application/json object body */
    CODAT_SDK_ERROR,       /* any other status or body the API does not promise */
    CODAT_TRANSPORT,       /* no HTTP answer: refused, DNS, TLS, reset */
    CODAT_TIMEOUT,         /* the per-attempt timeout ran out */
    CODAT_CANCELLED,       /* the cancel hook asked to stop */
    CODAT_BAD_INPUT,       /* a caller error the core caught (message says which) */
    CODAT_NO_MEMORY
} codat_outcome;

/* Retry policy, the official SDKs' "backoff" strategy. */
#define CODAT_MAX_STATUS 600
typedef struct {
    int enabled;                    /* 0: one attempt only */
    long initial_interval_ms;       /* 500 */
    long max_interval_ms;           /* 60000 */
    double exponent;                /* 1.5 */
    long max_elapsed_ms;            /* 3600000 */
    int retry_connection_errors;    /* 1 */
    unsigned char retry_status[CODAT_MAX_STATUS]; /* nonzero at each status that is retried */
} codat_retry_cfg;

/* Fills in the SDK defaults: 500 ms, 60 s, 1.5, 1 h, connection errors, 408, 429, 5XX. */
void codat_retry_defaults(codat_retry_cfg *cfg);
/* Adds a status pattern: "429" or "5XX" (a digit then XX). Returns 0, or -1 if the pattern is malformed. */
int codat_retry_add_status(codat_retry_cfg *cfg, const char *pattern);

/* Codat's API: the server a client talks to when none is given. The one definition: the binding
 * exports it as codat_platform_c.DEFAULT_SERVER_URL, which the Python layers read. */
#define CODAT_DEFAULT_SERVER_URL "https://api.codat.io"

typedef struct {
    const char *server_url;         /* e.g. CODAT_DEFAULT_SERVER_URL; a trailing slash is ignored */
    const char *auth_header;        /* sent verbatim as Authorization; may be NULL */
    const char *user_agent;
    long timeout_ms;                /* per attempt; 0 = no limit */
    int verify;                     /* TLS peer and host verification */
    const char *ca_bundle;          /* NULL = system store */
    const char *ca_dir;             /* a directory of hashed CA certificates (c_rehash); NULL = default */
    size_t max_body_bytes;          /* a larger response body is refused; 0 = default (4 MiB) */
    codat_retry_cfg retry;
    unsigned company_limit;         /* requests in flight per company, over every call of the client;
                                     * 0 = 10, Codat's limit; fixed for the client's life. More wait
                                     * (interruptibly, first come first served) for a slot. */
} codat_config;

/* Log levels, numbered as Python's logging module numbers them. */
#define CODAT_LOG_DEBUG 10   /* every attempt: request line, status, time */
#define CODAT_LOG_INFO 20    /* every retry: why and how long the wait */
/* A call that ends in an error is logged at DEBUG too: the caller gets it raised, and a library does not
 * also warn about an error it reports (that would put every handled failure in the application's log). */
/* Receives one finished line. Runs on the calling thread (or the I/O thread for asynchronous calls) with
 * no lock held. Lines never hold the auth header or a token. */
typedef void (*codat_log_fn)(void *ctx, int level, const char *message);

/* Per-call overrides: leave a field at its "unset" value to use the client's. */
typedef struct {
    long timeout_ms;                /* -1 = client's; 0 = no limit */
    const codat_retry_cfg *retry;   /* NULL = client's */
    const char *server_url;         /* NULL = client's */
    const char *const *extra_headers; /* NULL-terminated "Name: value" lines, already validated; or NULL */
    codat_log_fn log;               /* NULL = no logging */
    void *log_ctx;
    int log_level;                  /* the lowest level wanted; nothing below it is even formatted */
} codat_call_opts;
void codat_call_opts_init(codat_call_opts *opts);

typedef struct {
    long limit, remaining;          /* -1 when the header was absent */
    char reset[64];                 /* X-Rate-Limit-Reset as sent (an HTTP date or a number) */
    int known;                      /* nonzero once any rate-limit header has been seen */
} codat_rate_limit;

typedef struct {
    codat_outcome outcome;
    long status;                    /* HTTP status of the last attempt, 0 when none */
    char *body; size_t body_len;    /* raw body of the last attempt (malloc'd, NUL-terminated) */
    cJSON *json;                    /* parsed body when it was a JSON object */
    char *headers; size_t headers_len; /* raw header block of the last response (malloc'd) */
    double retry_after_s;           /* Retry-After of the last response, < 0 when absent */
    int attempts;                   /* how many requests were sent */
    int curl_code;                  /* CURLcode of the last attempt */
    int body_too_large;             /* the body passed max_body_bytes and was cut off */
    char message[256];              /* human text for transport errors and bad input; never holds secrets */
    codat_endpoint endpoint;        /* which endpoint the call asked (set when the call starts) */
} codat_result;

void codat_result_init(codat_result *r);
void codat_result_clear(codat_result *r);

/* Returns nonzero to abort the call. Polled about every 50 ms, and during backoff sleeps. */
typedef int (*codat_cancel_fn)(void *ctx);

typedef struct codat_client codat_client;

/* Must be called once per process before anything else (curl_global_init). Returns 0 on success. */
int codat_global_init(void);

codat_client *codat_client_new(const codat_config *cfg, char *err, size_t errlen);
/* Frees idle connections now; later calls fail with CODAT_BAD_INPUT. Blocking calls in flight finish
 * normally; asynchronous ones end CODAT_BAD_INPUT ("client is closed"). Safe from any thread, at once from
 * several, and from the I/O thread itself (inside done()). */
void codat_client_close(codat_client *c);
int codat_client_is_closed(const codat_client *c);
/* Only once no call is in flight; may be called from inside done() (the I/O thread frees the client as
 * it ends). */
void codat_client_free(codat_client *c);

/* One token, blocking. Returns out->outcome. */
codat_outcome codat_get_token(codat_client *c, codat_endpoint which, const char *company_id,
                              const codat_call_opts *opts, codat_cancel_fn cancel, void *ctx,
                              codat_result *out);

/* Requests in flight by default: a batch's `concurrency` and the async I/O thread's limit are this one
 * number (the binding exports it as DEFAULT_CONCURRENCY). Over a real network a call waits tens to hundreds
 * of milliseconds, so a client gets at most this many / latency tokens per second (2,000/s at 50 ms). 100 is
 * libcurl's default cap on streams per HTTP/2 connection (CURLMOPT_MAX_CONCURRENT_STREAMS) and the least
 * RFC 9113 asks servers to allow, so one multi handle's transfers fit on one connection (one TLS
 * handshake). Codat documents 10 in flight per company (CODAT_COMPANY_LIMIT keeps to it) and no
 * account-wide concurrency limit. See README "Concurrency defaults" and bench/latency_results.md. */
#define CODAT_DEFAULT_CONCURRENCY 100

/* Many tokens at once, at most `concurrency` transfers in flight. outs[i] answers company_ids[i].
 * The transfers run on `threads` multi handles, each driven by its own thread (the caller's is one of
 * them) and holding its share of the concurrency; threads <= 0 picks a number from the CPUs this process
 * may use, the batch size and the concurrency (1 for small batches). Jobs are handed out one by one, so
 * a slow company holds up only its own slot. progress(ctx, done, total) and cancel run on the calling
 * thread only: progress about every 100 ms and at the end (may be NULL); a nonzero return from cancel
 * aborts the whole batch, leaving unfinished results CODAT_CANCELLED. */
typedef int (*codat_progress_fn)(void *ctx, size_t done, size_t total);
codat_outcome codat_get_tokens(codat_client *c, codat_endpoint which, const char *const *company_ids,
                               size_t n, int concurrency, int threads, const codat_call_opts *opts,
                               codat_cancel_fn cancel, codat_progress_fn progress, void *ctx,
                               codat_result *outs);

/* The latest rate-limit figures the server sent. */
void codat_client_rate_limit(codat_client *c, codat_rate_limit *out);

/* Asynchronous calls, driven by one background I/O thread per client (started on first use).
 * done(ctx, result) runs on that thread, with no lock held; it owns the result and must clear it. */
typedef void (*codat_done_fn)(void *ctx, codat_result *result);
/* Returns the call's id (never 0), or 0 with a reason in err. */
unsigned long long codat_get_token_async(codat_client *c, codat_endpoint which, const char *company_id,
                                         const codat_call_opts *opts, codat_done_fn done, void *ctx,
                                         char *err, size_t errlen);
/* Asks the I/O thread to abort the call with that id; done() still runs exactly once (with
 * CODAT_CANCELLED unless the call had already finished). An id that already finished is ignored, so this
 * is safe to call at any time. */
void codat_async_cancel(codat_client *c, unsigned long long id);

/* Helpers the binding uses too (the core's other pure helpers are in url.h, classify.h and backoff.h). */
/* Percent-encodes s[0..len) as one RFC 3986 path segment (only unreserved characters stay). Returns
 * a malloc'd string, or NULL when out of memory. */
char *codat_encode_segment(const char *s, size_t len);
/* Checks a server URL: http(s) scheme, a host, no whitespace or control characters, no userinfo,
 * query or fragment. Returns 0 if good, else -1 with a reason in err. */
int codat_check_server_url(const char *url, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
