/* batch.c: blocking calls and batches. A batch's jobs are handed out one by one by an atomic claim cursor
 * to the threads that run it: the calling thread (the leader) and helper pthreads, each driving its own
 * scheduler (a multi handle from the client's pool) with its share of the concurrency. A blocking call is
 * a batch of one on the calling thread.
 *
 * Waiting happens in curl_multi_poll with at most CODAT_CANCEL_POLL_MS per slice, so the cancel hook (the
 * binding's Ctrl-C check) is consulted as often during a silent server or a backoff sleep as during a
 * transfer. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <sched.h>
#include <stdatomic.h>
#include "client.h"
#include "sched.h"

/* One call's jobs, shared by the threads that run them. */
typedef struct {
    codat_job **jobs;
    size_t n;
    atomic_size_t next_claim;     /* jobs[next_claim..n) are not yet claimed */
    atomic_size_t done;           /* jobs finished, over all threads */
    atomic_int stop;              /* cancelled: each thread aborts what it holds and returns */
    _Atomic double paused_until_ms; /* a 429 with Retry-After met by any thread pauses them all */
    CURLM *leader_multi;          /* the calling thread's; woken when a helper returns */
    CURLM *helper_multis[CODAT_MAX_BATCH_THREADS]; /* woken when the batch is cancelled */
    int n_helpers;
} codat_batch;

/* One thread's part of a batch. */
typedef struct {
    codat_batch *batch;
    codat_sched *sched;
    int concurrency;
    int exhausted;                /* the claim cursor ran past the end */
    pthread_t thread;
    int started;
} batch_thread;

static codat_job *claim_next(void *arg)
{
    batch_thread *t = arg;
    if (t->exhausted)
        return NULL;
    size_t i = atomic_fetch_add(&t->batch->next_claim, 1);
    if (i + 1 >= t->batch->n)
        t->exhausted = 1; /* known now: the caller need not come back to learn it */
    return i < t->batch->n ? t->batch->jobs[i] : NULL;
}

static void on_job_done(void *arg, codat_job *job)
{
    (void)job;
    codat_batch *b = arg;
    atomic_fetch_add(&b->done, 1);
}

static void cancel_batch(codat_batch *b)
{
    atomic_store(&b->stop, 1);
    for (int i = 0; i < b->n_helpers; i++)
        curl_multi_wakeup(b->helper_multis[i]);
}

/* The leader's hooks. They run on time, not on events, so a busy batch still notices Ctrl-C. */
typedef struct {
    codat_cancel_fn cancel;
    codat_progress_fn progress;
    void *ctx;
    double last_check, last_progress;
} batch_hooks;

static void run_hooks(batch_hooks *h, codat_batch *b, double now)
{
    if (h->cancel && now - h->last_check >= CODAT_CANCEL_POLL_MS) {
        h->last_check = now;
        if (h->cancel(h->ctx))
            cancel_batch(b);
    }
    /* Never after a cancel: the cancel hook may have left a Python exception set. */
    if (h->progress && now - h->last_progress >= CODAT_PROGRESS_MS &&
        !atomic_load_explicit(&b->stop, memory_order_relaxed)) {
        h->last_progress = now;
        if (h->progress(h->ctx, atomic_load(&b->done), b->n))
            cancel_batch(b);
    }
}

/* Runs this thread's share of the batch: claims jobs while its scheduler has room, until nothing is left to
 * claim and all it claimed has ended. The leader (hooks != NULL) returns only once every job of the batch
 * is done (or cancelled). Returns CODAT_OK, or CODAT_CANCELLED when the batch was cancelled (this thread's
 * unfinished jobs then end CODAT_CANCELLED; jobs nobody claimed are left to the caller). */
static codat_outcome run_share(batch_thread *t, batch_hooks *hooks)
{
    codat_batch *b = t->batch;
    codat_sched *s = t->sched;
    CURLM *multi = sched_multi(s);
    codat_outcome rc = CODAT_OK;
    sched_set_source(s, claim_next, t, &b->paused_until_ms);
    for (;;) {
        double now = codat_now_ms();
        if (hooks)
            run_hooks(hooks, b, now);
        if (atomic_load_explicit(&b->stop, memory_order_relaxed)) {
            sched_abort_all(s, CODAT_CANCELLED, "cancelled");
            rc = CODAT_CANCELLED;
            break;
        }
        double due = sched_start_due(s, now);
        int ended = 0;
        if (sched_running(s) > 0) {
            int still = 0;
            curl_multi_perform(multi, &still);
            ended = sched_collect(s, -1);
        }
        int mine_done = t->exhausted && sched_idle(s);
        if (ended > 0 && !mine_done)
            continue; /* slots opened, or retries were scheduled: plan again before waiting */
        if (mine_done && (!hooks || atomic_load(&b->done) == b->n))
            break;
        double wait = CODAT_CANCEL_POLL_MS;
        if (due >= 0 && due < wait)
            wait = due;
        curl_multi_poll(multi, NULL, 0, wait > 0 ? (int)wait : 0, NULL);
    }
    sched_set_source(s, NULL, NULL, NULL);
    if (!hooks)
        curl_multi_wakeup(b->leader_multi); /* the leader may be waiting for exactly this */
    else if (rc == CODAT_OK && hooks->progress)
        hooks->progress(hooks->ctx, atomic_load(&b->done), b->n);
    return rc;
}

static void *helper_main(void *arg)
{
    run_share(arg, NULL);
    return NULL;
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

/* Helpers, each with its own scheduler (connections cannot be shared across threads) and its share of the
 * concurrency. One that cannot be set up is simply not there: the jobs it would have claimed go to the
 * others. Returns the concurrency left to the leader. */
static int start_helpers(codat_client *c, codat_batch *b, batch_thread *helpers, int k, int concurrency)
{
    for (int i = 1; i < k; i++) {
        batch_thread *h = &helpers[b->n_helpers];
        memset(h, 0, sizeof *h);
        h->concurrency = concurrency / k + (i < concurrency % k);
        h->sched = client_sched_acquire(c, h->concurrency, on_job_done, b);
        if (!h->sched)
            break;
        h->batch = b;
        b->helper_multis[b->n_helpers++] = sched_multi(h->sched);
    }
    int leader_concurrency = concurrency;
    for (int i = 0; i < b->n_helpers; i++) {
        if (pthread_create(&helpers[i].thread, NULL, helper_main, &helpers[i]) == 0) {
            helpers[i].started = 1;
            leader_concurrency -= helpers[i].concurrency;
        }
    }
    return leader_concurrency;
}

static void join_helpers(codat_client *c, codat_batch *b, batch_thread *helpers)
{
    for (int i = 0; i < b->n_helpers; i++) {
        if (helpers[i].started)
            pthread_join(helpers[i].thread, NULL);
        client_sched_release(c, helpers[i].sched);
    }
}

/* Runs the prepared jobs on k threads (the caller's among them). Jobs no thread claimed (the batch was
 * cancelled, or could not run) end here. */
static codat_outcome run_batch(codat_client *c, codat_job **ptrs, size_t n, int concurrency, int threads,
                               batch_hooks *hooks)
{
    codat_batch b;
    memset(&b, 0, sizeof b);
    b.jobs = ptrs;
    b.n = n;
    atomic_init(&b.next_claim, 0);
    atomic_init(&b.done, 0);
    atomic_init(&b.stop, 0);
    atomic_init(&b.paused_until_ms, 0.0);
    batch_thread leader = {.batch = &b};
    leader.sched = client_sched_acquire(c, concurrency, on_job_done, &b);
    if (!leader.sched)
        return CODAT_NO_MEMORY;
    b.leader_multi = sched_multi(leader.sched);
    batch_thread helpers[CODAT_MAX_BATCH_THREADS - 1];
    int k = batch_threads(n, concurrency, threads);
    leader.concurrency = concurrency;
    if (k > 1) {
        leader.concurrency = start_helpers(c, &b, helpers, k, concurrency);
        sched_configure(leader.sched, leader.concurrency, on_job_done, NULL, &b);
    }
    codat_outcome rc = run_share(&leader, hooks);
    join_helpers(c, &b, helpers);
    for (size_t i = 0; rc != CODAT_OK && i < n; i++)
        if (ptrs[i]->state != JOB_DONE)
            attempt_abort(ptrs[i], CODAT_CANCELLED, "cancelled");
    client_sched_release(c, leader.sched);
    return rc;
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
    codat_job one_job, *one_ptr = &one_job;
    codat_job *jobs = n == 1 ? &one_job : calloc(n, sizeof *jobs);
    codat_job **ptrs = n == 1 ? &one_ptr : calloc(n, sizeof *ptrs);
    size_t inited = 0;
    int prepared = jobs && ptrs;
    codat_outcome rc = CODAT_NO_MEMORY;
    for (; prepared && inited < n; inited++) {
        ptrs[inited] = &jobs[inited];
        if (job_init(&jobs[inited], c, which, company_ids[inited], opts, &outs[inited]) != 0)
            prepared = 0; /* the loop still counts it: job_release frees what it made */
    }
    if (prepared) {
        double now = codat_now_ms();
        batch_hooks hooks = {cancel, progress, ctx, now, now};
        rc = run_batch(c, ptrs, n, concurrency < 1 ? 1 : concurrency, threads, &hooks);
        if (n == 1)
            rc = outs[0].outcome;
    }
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
