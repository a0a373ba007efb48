/* client.c: the client object, its pool of engines, the share handle, fork safety and the public calls. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include <unistd.h>
#include <sched.h>
#include "internal.h"

/* ---- process-wide state ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_init_rc = -1;
/* Bumped in a forked child: every client compares it with its own generation before touching its
 * handles, and abandons them (without closing the parent's connections) when they differ. */
static volatile unsigned fork_generation_counter = 0;

static void on_fork_child(void)
{
    fork_generation_counter++;
}

static void global_init_once(void)
{
    global_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
    pthread_atfork(NULL, NULL, on_fork_child);
}

int codat_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_init_rc;
}

unsigned codat_fork_generation(void)
{
    return fork_generation_counter;
}

/* ---- share handle: DNS cache and TLS sessions, never live connections ---- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userptr)
{
    (void)h;
    (void)access;
    codat_client *c = userptr;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr)
{
    (void)h;
    codat_client *c = userptr;
    pthread_mutex_unlock(&c->share_locks[data]);
}

static int share_setup(codat_client *c)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    c->share = curl_share_init();
    if (!c->share)
        return -1;
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return 0;
}

/* ---- engines ---- */

codat_engine *engine_new(codat_client *c)
{
    codat_engine *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->client = c;
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e);
        return NULL;
    }
    /* HTTP/2 multiplexing where the server offers it (the default), and no cap on connections: the
     * callers' concurrency bounds it. */
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    e->rng = (uint64_t)(uintptr_t)e ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(codat_now_ms() * 1000.0);
    if (!e->rng)
        e->rng = 0x9E3779B97F4A7C15ULL;
    return e;
}

void engine_free(codat_engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n_idle_easy; i++)
        curl_easy_cleanup(e->idle_easy[i]);
    curl_multi_cleanup(e->multi);
    free(e);
}

/* In a forked child the parent's handles hold the parent's sockets and TLS state, and the pool's mutex
 * may have been held by a thread that does not exist here. Start over: fresh locks and share handle; the
 * old handles are dropped without cleanup, since cleanup would talk on the parent's connections. */
static void after_fork_reset(codat_client *c)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->close_lock, NULL);
    /* The parent's counts are for requests of threads the child does not have; the table may even have
     * been mid-update in one of them. Start empty (the parent's copy is leaked like its handles). */
    pthread_mutex_init(&c->slots_lock, NULL);
    memset(&c->slots, 0, sizeof c->slots);
    c->idle_engines = NULL;
    c->n_idle_engines = 0;
    c->io_started = 0;
    c->io_engine = NULL;
    c->io_incoming = NULL;
    c->io_stop = 0;
    c->io_joining = c->io_detached = c->io_free_pending = 0;
    c->io_cancels = NULL; /* the parent's array is leaked like its handles */
    c->io_n_cancels = c->io_cap_cancels = 0;
    share_setup(c);
    c->fork_generation = codat_fork_generation();
}

static void check_fork(codat_client *c)
{
    if (c->fork_generation != codat_fork_generation())
        after_fork_reset(c);
}

codat_engine *engine_acquire(codat_client *c)
{
    check_fork(c);
    pthread_mutex_lock(&c->lock);
    codat_engine *e = c->idle_engines;
    if (e) {
        c->idle_engines = e->next;
        c->n_idle_engines--;
    }
    pthread_mutex_unlock(&c->lock);
    if (!e)
        e = engine_new(c);
    return e;
}

void engine_release(codat_client *c, codat_engine *e)
{
    if (c->fork_generation != codat_fork_generation())
        return; /* forked mid-call: this engine belongs to the parent */
    pthread_mutex_lock(&c->lock);
    if (!c->closed && c->n_idle_engines < CODAT_MAX_IDLE_ENGINES) {
        e->next = c->idle_engines;
        c->idle_engines = e;
        c->n_idle_engines++;
        e = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    engine_free(e);
}

void client_note_rate_limit(codat_client *c, const codat_job *job)
{
    pthread_mutex_lock(&c->lock);
    /* Concurrent answers arrive out of order: within one quota window the lowest remaining is the
     * newest figure, so a late answer carrying a higher one is stale. Only a reset time names the window:
     * without one a higher figure may be a new window, and the latest answer wins. */
    if (c->rate_limit.known && job->rl_remaining > c->rate_limit.remaining && c->rate_limit.remaining >= 0 &&
        job->rl_reset[0] && strcmp(c->rate_limit.reset, job->rl_reset) == 0) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    c->rate_limit.known = 1;
    c->rate_limit.limit = job->rl_limit;
    c->rate_limit.remaining = job->rl_remaining;
    snprintf(c->rate_limit.reset, sizeof c->rate_limit.reset, "%s", job->rl_reset);
    pthread_mutex_unlock(&c->lock);
}

void codat_client_rate_limit(codat_client *c, codat_rate_limit *out)
{
    check_fork(c);
    pthread_mutex_lock(&c->lock);
    *out = c->rate_limit;
    pthread_mutex_unlock(&c->lock);
}

/* ---- the client ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

void codat_call_opts_init(codat_call_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->timeout_ms = -1;
}

void codat_result_init(codat_result *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

void codat_result_clear(codat_result *r)
{
    free(r->body);
    free(r->headers);
    if (r->json)
        cJSON_Delete(r->json);
    codat_result_init(r);
}

/* Proxies come from the environment, as with libcurl's own lookup and with httpx: the same variables,
 * read once here rather than by libcurl on every transfer (five getenv scans of the whole environment,
 * about 2 % of a transfer's CPU). Like httpx, a client sees the environment it was made in. */
static char *env_first(const char *name, const char *upper)
{
    const char *v = getenv(name);
    if (!v && upper)
        v = getenv(upper);
    return strdup(v ? v : "");
}

static char *env_proxy(const char *scheme)
{
    char lower[16], upper[16];
    snprintf(lower, sizeof lower, "%s_proxy", scheme);
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)toupper((unsigned char)lower[i]);
    /* HTTP_PROXY is ignored, as libcurl and the CGI-safe convention ("httpoxy") have it */
    const char *v = getenv(lower);
    if (!v && strcmp(scheme, "http") != 0)
        v = getenv(upper);
    if (!v)
        return env_first("all_proxy", "ALL_PROXY");
    return strdup(v);
}

/* Appends "name: value" to the client's base headers. Returns 0, or -1 when out of memory. */
static int add_base_header(codat_client *c, const char *name, const char *value)
{
    size_t n = strlen(name) + 2 + strlen(value) + 1;
    char *line = malloc(n);
    if (!line)
        return -1;
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *h = curl_slist_append(c->base_headers, line);
    /* the Authorization line holds the secret: wipe our copy (curl_slist_append made its own) */
    memset(line, 0, n);
    free(line);
    if (!h)
        return -1;
    c->base_headers = h;
    return 0;
}

codat_client *codat_client_new(const codat_config *cfg, char *err, size_t errlen)
{
    if (codat_global_init() != 0) {
        set_err(err, errlen, "libcurl failed to initialise");
        return NULL;
    }
    if (!cfg->server_url || codat_check_server_url(cfg->server_url, err, errlen) != 0)
        return NULL;
    codat_client *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->close_lock, NULL);
    pthread_mutex_init(&c->slots_lock, NULL);
    c->company_limit = cfg->company_limit ? cfg->company_limit : CODAT_COMPANY_LIMIT;
    c->fork_generation = codat_fork_generation();
    c->server_url = strdup(cfg->server_url);
    c->auth_header = dup_or_null(cfg->auth_header);
    c->ca_bundle = dup_or_null(cfg->ca_bundle);
    c->ca_dir = dup_or_null(cfg->ca_dir);
    c->user_agent = strdup(cfg->user_agent ? cfg->user_agent : "codat-platform-c");
    c->proxy_http = env_proxy("http");
    c->proxy_https = env_proxy("https");
    c->no_proxy = env_first("no_proxy", "NO_PROXY");
    c->verify = cfg->verify;
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 0;
    c->max_body = cfg->max_body_bytes ? cfg->max_body_bytes : CODAT_DEFAULT_MAX_BODY;
    c->retry = cfg->retry;
    c->rate_limit.limit = c->rate_limit.remaining = -1;
    int ok = c->server_url && c->user_agent && c->proxy_http && c->proxy_https && c->no_proxy &&
             (!cfg->auth_header || c->auth_header) && (!cfg->ca_bundle || c->ca_bundle) &&
             (!cfg->ca_dir || c->ca_dir) && share_setup(c) == 0;
    /* Every request's headers. The User-Agent goes here rather than in CURLOPT_USERAGENT, which libcurl
     * formats anew for each request. */
    if (ok && cfg->auth_header)
        ok = add_base_header(c, "Authorization", cfg->auth_header) == 0 &&
             codat_secrets_add_authorization(&c->secrets, cfg->auth_header, strlen(cfg->auth_header)) == 0;
    /* A proxy's credentials travel as Proxy-Authorization: a proxy's error page may echo them. */
    if (ok)
        ok = codat_secrets_add_url_userinfo(&c->secrets, c->proxy_http) == 0 &&
             codat_secrets_add_url_userinfo(&c->secrets, c->proxy_https) == 0;
    if (ok)
        ok = add_base_header(c, "Accept", "application/json") == 0;
    if (ok)
        ok = add_base_header(c, "User-Agent", c->user_agent) == 0;
    if (!ok) {
        set_err(err, errlen, "out of memory");
        codat_client_free(c);
        return NULL;
    }
    return c;
}

int codat_client_is_closed(const codat_client *c)
{
    return c->closed;
}

/* Whether the calling thread is c's I/O thread: code it calls back (a Python finalizer, the last
 * reference to the client dropped by a completion) may close or free the client from there. */
static int on_io_thread(codat_client *c)
{
    pthread_mutex_lock(&c->lock);
    int mine = c->io_started && pthread_equal(pthread_self(), c->io_thread);
    pthread_mutex_unlock(&c->lock);
    return mine;
}

/* closed and io_stop are set together, under the lock that every submission takes to check closed: once
 * the I/O thread sees io_stop it has also seen every call that will ever be submitted, so none can be
 * stranded in the queue. The wakeup is sent under that lock too, so the engine it goes through cannot be
 * freed meanwhile. The I/O thread cannot join itself: closed from there, it is left to end on its own
 * (detached); from any other thread, close() waits for it to end. */
void codat_client_close(codat_client *c)
{
    check_fork(c);
    int own_thread = on_io_thread(c);
    if (!own_thread)
        pthread_mutex_lock(&c->close_lock); /* a second close() returns only once the first is done */
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    int join = 0;
    pthread_t thread;
    if (c->io_started) {
        c->io_stop = 1;
        if (c->io_engine)
            curl_multi_wakeup(c->io_engine->multi);
        if (own_thread) {
            if (!c->io_joining)
                c->io_detached = 1;
        } else if (!c->io_detached && !c->io_joining) {
            c->io_joining = 1;
            join = 1;
            thread = c->io_thread;
        }
    }
    codat_engine *e = c->idle_engines;
    c->idle_engines = NULL;
    c->n_idle_engines = 0;
    pthread_mutex_unlock(&c->lock);
    if (join) {
        pthread_join(thread, NULL); /* the thread freed its engine as it ended */
        pthread_mutex_lock(&c->lock);
        c->io_started = 0;
        c->io_joining = 0;
        pthread_mutex_unlock(&c->lock);
    }
    if (!own_thread)
        pthread_mutex_unlock(&c->close_lock);
    while (e) {
        codat_engine *next = e->next;
        engine_free(e);
        e = next;
    }
}

static void client_destroy(codat_client *c)
{
    if (c->fork_generation == codat_fork_generation()) {
        if (c->share)
            curl_share_cleanup(c->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->share_locks[i]);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->close_lock);
        pthread_mutex_destroy(&c->slots_lock);
        codat_slots_free(&c->slots);
    }
    /* else: a forked child freeing a parent's client: leak the handles rather than touch them. */
    curl_slist_free_all(c->base_headers);
    codat_secrets_free(&c->secrets);
    free(c->server_url);
    if (c->auth_header) {
        memset(c->auth_header, 0, strlen(c->auth_header));
        free(c->auth_header);
    }
    free(c->ca_bundle);
    free(c->ca_dir);
    free(c->user_agent);
    free(c->proxy_http);
    free(c->proxy_https);
    free(c->no_proxy);
    free(c->io_cancels);
    free(c);
}

void codat_client_free(codat_client *c)
{
    if (!c)
        return;
    if (c->fork_generation == codat_fork_generation()) {
        codat_client_close(c);
        /* After close only a detached I/O thread can still be running (the client was closed or freed
         * from that thread itself): it is using the client, so it frees it as it ends. */
        pthread_mutex_lock(&c->lock);
        int handed_over = c->io_started || c->evloop_holds > 0;
        if (handed_over)
            c->io_free_pending = 1;
        pthread_mutex_unlock(&c->lock);
        if (handed_over)
            return;
    }
    client_destroy(c);
}

void client_io_thread_exit(codat_client *c, codat_engine *e)
{
    pthread_mutex_lock(&c->lock);
    c->io_engine = NULL; /* no wakeup can reach the engine from here on */
    pthread_mutex_unlock(&c->lock);
    engine_free(e); /* while the client lives: its easy handles use the client's share handle */
    pthread_mutex_lock(&c->lock);
    int detached = c->io_detached;
    int free_client = detached && c->io_free_pending && c->evloop_holds == 0;
    if (detached) {
        pthread_detach(pthread_self());
        c->io_started = 0;
        c->io_detached = 0;
    }
    pthread_mutex_unlock(&c->lock);
    /* Detached and not freed: another thread may free the client from here on, so no more touching it. */
    if (free_client)
        client_destroy(c);
}

void client_hold(codat_client *c)
{
    check_fork(c);
    pthread_mutex_lock(&c->lock);
    c->evloop_holds++;
    pthread_mutex_unlock(&c->lock);
}

void client_unhold(codat_client *c)
{
    check_fork(c);
    pthread_mutex_lock(&c->lock);
    int free_client = --c->evloop_holds == 0 && c->io_free_pending && !c->io_started;
    pthread_mutex_unlock(&c->lock);
    if (free_client)
        client_destroy(c);
}

static codat_outcome fail_result(codat_result *out, codat_outcome outcome, const char *msg)
{
    out->outcome = outcome;
    snprintf(out->message, sizeof out->message, "%s", msg);
    return outcome;
}

codat_outcome codat_get_token(codat_client *c, codat_endpoint which, const char *company_id,
                              const codat_call_opts *opts, codat_cancel_fn cancel, void *ctx,
                              codat_result *out)
{
    return codat_get_tokens(c, which, &company_id, 1, 1, 1, opts, cancel, NULL, ctx, out);
}

/* CPUs this process may run on (its affinity mask, which containers and taskset narrow). */
static int usable_cpus(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* How many threads run a batch. A transfer costs libcurl some 20 µs of CPU, so a fast server (or many
 * companies on a slow one) keeps one thread busy: past a few thousand tokens a second the batch is CPU
 * bound, and a second core doubles what the client can issue. Small batches stay on the calling thread. */
static int batch_threads(size_t n, int concurrency, int threads)
{
    size_t k;
    if (threads > 0) {
        k = (size_t)threads;
    } else {
        k = (size_t)usable_cpus();
        if (k > CODAT_AUTO_MAX_THREADS)
            k = CODAT_AUTO_MAX_THREADS;
        if (k > n / CODAT_AUTO_JOBS_PER_THREAD)
            k = n / CODAT_AUTO_JOBS_PER_THREAD;
        if (k > (size_t)concurrency / CODAT_AUTO_SLOTS_PER_THREAD)
            k = (size_t)concurrency / CODAT_AUTO_SLOTS_PER_THREAD;
    }
    if (k > (size_t)concurrency)
        k = (size_t)concurrency; /* every thread needs at least one slot */
    if (k > n)
        k = n;
    if (k > CODAT_MAX_BATCH_THREADS)
        k = CODAT_MAX_BATCH_THREADS;
    return k < 1 ? 1 : (int)k;
}

typedef struct {
    codat_engine *engine;
    codat_job **mine;
    int concurrency;
    codat_batch *batch;
    pthread_t thread;
    int started;
} batch_helper;

static void *batch_helper_main(void *arg)
{
    batch_helper *h = arg;
    engine_run(h->engine, h->batch, h->mine, h->concurrency, 0, NULL, NULL, NULL);
    return NULL;
}

codat_outcome codat_get_tokens(codat_client *c, codat_endpoint which, const char *const *company_ids,
                               size_t n, int concurrency, int threads, const codat_call_opts *opts,
                               codat_cancel_fn cancel, codat_progress_fn progress, void *ctx,
                               codat_result *outs)
{
    for (size_t i = 0; i < n; i++) {
        codat_result_init(&outs[i]);
        outs[i].endpoint = which;
    }
    if (c->closed) {
        for (size_t i = 0; i < n; i++)
            fail_result(&outs[i], CODAT_BAD_INPUT, "client is closed");
        return CODAT_BAD_INPUT;
    }
    if (n == 0)
        return CODAT_OK;
    if (concurrency < 1)
        concurrency = 1;
    codat_job one_job, *one_ptr = &one_job;
    codat_job *jobs = n == 1 ? &one_job : calloc(n, sizeof *jobs);
    codat_job **ptrs = n == 1 ? &one_ptr : calloc(n, sizeof *ptrs);
    codat_engine *e = NULL;
    batch_helper helpers[CODAT_MAX_BATCH_THREADS - 1];
    int n_helpers = 0;
    size_t inited = 0;
    codat_outcome rc = CODAT_NO_MEMORY;
    if (!jobs || !ptrs)
        goto out;
    for (; inited < n; inited++) {
        ptrs[inited] = &jobs[inited];
        if (job_init(&jobs[inited], c, which, company_ids[inited], opts, &outs[inited]) != 0) {
            inited++;
            goto out;
        }
    }
    e = engine_acquire(c);
    if (!e)
        goto out;

    codat_batch b;
    memset(&b, 0, sizeof b);
    b.jobs = ptrs;
    b.n = n;
    atomic_init(&b.next_claim, 0);
    atomic_init(&b.done, 0);
    atomic_init(&b.stop, 0);
    atomic_init(&b.paused_until_ms, 0.0);
    b.leader_multi = e->multi;

    /* Helpers first, each with its own engine (connections cannot be shared across threads) and its
     * share of the concurrency. One that cannot be set up is simply not there: the jobs it would have
     * claimed go to the others. */
    int k = batch_threads(n, concurrency, threads);
    for (int i = 1; i < k; i++) {
        batch_helper *h = &helpers[n_helpers];
        h->engine = engine_acquire(c);
        h->mine = h->engine ? malloc(n * sizeof *h->mine) : NULL;
        if (!h->mine) {
            if (h->engine)
                engine_release(c, h->engine);
            break;
        }
        h->concurrency = concurrency / k + (i < concurrency % k);
        h->batch = &b;
        h->started = 0;
        b.helper_multis[n_helpers] = h->engine->multi;
        n_helpers++;
    }
    b.n_helpers = n_helpers;
    int leader_concurrency = concurrency;
    for (int i = 0; i < n_helpers; i++) {
        if (pthread_create(&helpers[i].thread, NULL, batch_helper_main, &helpers[i]) == 0) {
            helpers[i].started = 1;
            leader_concurrency -= helpers[i].concurrency;
        }
    }
    codat_job **leader_mine = n_helpers ? malloc(n * sizeof *leader_mine) : ptrs;
    if (leader_mine) {
        rc = engine_run(e, &b, leader_mine, leader_concurrency, 1, cancel, progress, ctx);
    } else {
        /* Cannot take part: stop the helpers at once rather than leave the batch half run. */
        atomic_store(&b.stop, 1);
        for (int i = 0; i < n_helpers; i++)
            curl_multi_wakeup(helpers[i].engine->multi);
        rc = CODAT_NO_MEMORY;
    }
    for (int i = 0; i < n_helpers; i++) {
        if (helpers[i].started)
            pthread_join(helpers[i].thread, NULL);
        free(helpers[i].mine);
        engine_release(c, helpers[i].engine);
    }
    if (leader_mine != ptrs)
        free(leader_mine);
    /* Jobs no thread claimed (the batch was cancelled, or could not run) end here. */
    for (size_t i = 0; rc != CODAT_OK && i < n; i++)
        if (jobs[i].state != JOB_DONE)
            job_abort(e, &jobs[i], rc == CODAT_NO_MEMORY ? CODAT_NO_MEMORY : CODAT_CANCELLED,
                      rc == CODAT_NO_MEMORY ? "out of memory" : "cancelled");
    engine_release(c, e);
    if (n == 1)
        rc = outs[0].outcome;
out:
    if (rc == CODAT_NO_MEMORY)
        for (size_t i = 0; i < n; i++)
            if (outs[i].outcome == CODAT_OK && !outs[i].json)
                fail_result(&outs[i], CODAT_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < inited; i++)
        job_release(&jobs[i]);
    if (n != 1) {
        free(jobs);
        free(ptrs);
    }
    return rc;
}

/* ---- asynchronous calls ---- */

static int ensure_io_thread(codat_client *c, char *err, size_t errlen)
{
    /* Called with c->lock held. */
    if (c->io_started)
        return 0;
    c->io_engine = engine_new(c);
    if (!c->io_engine) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_create(&c->io_thread, NULL, io_thread_main, c) != 0) {
        engine_free(c->io_engine);
        c->io_engine = NULL;
        set_err(err, errlen, "could not start the I/O thread");
        return -1;
    }
    c->io_started = 1;
    return 0;
}

unsigned long long codat_get_token_async(codat_client *c, codat_endpoint which, const char *company_id,
                                         const codat_call_opts *opts, codat_done_fn done, void *ctx,
                                         char *err, size_t errlen)
{
    check_fork(c);
    if (c->closed) {
        set_err(err, errlen, "client is closed");
        return 0;
    }
    codat_job *job = malloc(sizeof *job);
    codat_result *out = malloc(sizeof *out);
    if (!job || !out) {
        free(job);
        free(out);
        set_err(err, errlen, "out of memory");
        return 0;
    }
    codat_result_init(out);
    if (job_init(job, c, which, company_id, opts, out) != 0) {
        job_release(job);
        free(job);
        free(out);
        set_err(err, errlen, "out of memory");
        return 0;
    }
    job->done = done;
    job->done_ctx = ctx;
    pthread_mutex_lock(&c->lock);
    /* closed is checked again under the lock that close() sets it under: a call that gets past here is
     * queued before the I/O thread can see io_stop, so it is always completed. */
    int failed = c->closed;
    if (failed)
        set_err(err, errlen, "client is closed");
    else
        failed = ensure_io_thread(c, err, errlen) != 0;
    if (failed) {
        pthread_mutex_unlock(&c->lock);
        job_release(job);
        free(job);
        free(out);
        return 0;
    }
    unsigned long long id = job->id = ++c->io_next_id;
    job->next = c->io_incoming;
    c->io_incoming = job;
    curl_multi_wakeup(c->io_engine->multi); /* under the lock: the engine cannot be freed meanwhile */
    pthread_mutex_unlock(&c->lock);
    return id;
}

void codat_async_cancel(codat_client *c, unsigned long long id)
{
    check_fork(c); /* in a forked child, io_engine is the parent's: its wakeup socket is shared with it */
    pthread_mutex_lock(&c->lock);
    if (!c->io_engine || c->io_stop || id == 0) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->io_n_cancels == c->io_cap_cancels) {
        size_t cap = c->io_cap_cancels ? c->io_cap_cancels * 2 : 16;
        unsigned long long *p = realloc(c->io_cancels, cap * sizeof *p);
        if (!p) {
            pthread_mutex_unlock(&c->lock);
            return; /* the call then runs to its end; done() still comes */
        }
        c->io_cancels = p;
        c->io_cap_cancels = cap;
    }
    c->io_cancels[c->io_n_cancels++] = id;
    curl_multi_wakeup(c->io_engine->multi); /* under the lock: the engine cannot be freed meanwhile */
    pthread_mutex_unlock(&c->lock);
}
