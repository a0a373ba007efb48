/* engine.c: drives jobs on a libcurl multi handle. The same loop serves a single blocking call (n = 1),
 * a batch (n = thousands, bounded concurrency) and, in io_thread_main, the asynchronous calls.
 *
 * Waiting happens in curl_multi_poll with at most CODAT_CANCEL_POLL_MS per slice, so the cancel hook (the
 * binding's Ctrl-C check) is consulted as often during a silent server or a backoff sleep as during a
 * transfer. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

double codat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Reads libcurl's finished transfers and lets each job decide what comes next. Returns how many
 * attempts ended; *done_jobs grows by how many jobs reached JOB_DONE. */
static int drain_finished(codat_engine *e, size_t *done_jobs)
{
    int ended = 0;
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        codat_job *job = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
        CURLcode code = msg->data.result;
        job_finish_attempt(e, job, code);
        ended++;
        if (job->state == JOB_DONE && done_jobs)
            (*done_jobs)++;
    }
    return ended;
}

static void poll_slice(codat_engine *e, double wait_ms)
{
    if (wait_ms < 0)
        wait_ms = 0;
    if (wait_ms > CODAT_CANCEL_POLL_MS)
        wait_ms = CODAT_CANCEL_POLL_MS;
    curl_multi_poll(e->multi, NULL, 0, (int)wait_ms, NULL);
}

void engine_note_pause(codat_engine *e, double until_ms)
{
    if (until_ms > e->paused_until_ms)
        e->paused_until_ms = until_ms;
    codat_batch *b = e->batch;
    if (!b)
        return;
    double seen = atomic_load(&b->paused_until_ms);
    while (until_ms > seen && !atomic_compare_exchange_weak(&b->paused_until_ms, &seen, until_ms))
        ;
}

static void abort_unfinished(codat_engine *e, codat_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i]->state != JOB_DONE)
            job_abort(e, jobs[i], CODAT_CANCELLED, "cancelled");
}

enum { STARTED, ENDED, WAITS_FOR_SLOT };

/* What a start means for the loop's bookkeeping. */
static void count_start(int started, const codat_job *job, int *running, size_t *ended, double *next_due)
{
    if (started == STARTED)
        (*running)++;
    else if (started == ENDED)
        (*ended)++;
    else if (*next_due < 0 || job->next_at_ms < *next_due)
        *next_due = job->next_at_ms;
}

/* Starts one attempt; a job that cannot even start (out of memory) is finished on the spot, and one whose
 * company is at its limit is left JOB_WAITING, due again shortly. */
static int start_or_fail(codat_engine *e, codat_job *job)
{
    int rc = job_start_attempt(e, job);
    if (rc == 0)
        return STARTED;
    if (rc == 1)
        return WAITS_FOR_SLOT;
    job_abort(e, job, CODAT_NO_MEMORY, "out of memory");
    return ENDED;
}

static void cancel_batch(codat_batch *b)
{
    atomic_store(&b->stop, 1);
    for (int i = 0; i < b->n_helpers; i++)
        curl_multi_wakeup(b->helper_multis[i]);
}

codat_outcome engine_run(codat_engine *e, codat_batch *b, codat_job **mine, int concurrency, int leader,
                         codat_cancel_fn cancel, codat_progress_fn progress, void *ctx)
{
    if (concurrency < 1)
        concurrency = 1;
    size_t claimed = 0, finished = 0; /* mine[0..claimed) are this thread's jobs; `finished` of them done */
    size_t oldest = 0; /* mine[0..oldest) are all done: the scan for due retries starts here, so a big
                        * batch costs O(concurrency) per start, not O(jobs claimed so far) */
    int running = 0, exhausted = 0;
    double started = codat_now_ms();
    double last_check = started, last_progress = started;
    codat_outcome rc = CODAT_OK;
    e->paused_until_ms = 0;
    e->batch = b;

    for (;;) {
        double now = codat_now_ms();
        /* The hooks run on time, not on events, so a busy batch still notices Ctrl-C. */
        if (leader && cancel && now - last_check >= CODAT_CANCEL_POLL_MS) {
            last_check = now;
            if (cancel(ctx))
                cancel_batch(b);
        }
        /* Never after a cancel: the cancel hook may have left a Python exception set. */
        if (leader && progress && now - last_progress >= CODAT_PROGRESS_MS &&
            !atomic_load_explicit(&b->stop, memory_order_relaxed)) {
            last_progress = now;
            if (progress(ctx, atomic_load(&b->done), b->n))
                cancel_batch(b);
        }
        if (atomic_load_explicit(&b->stop, memory_order_relaxed)) {
            abort_unfinished(e, mine, claimed);
            rc = CODAT_CANCELLED;
            break;
        }

        /* Start what may start: due retries first (they are older), then new jobs. A 429 that named a
         * Retry-After pauses every start, in every thread of the batch, so a batch slows down instead of
         * hammering the server. */
        double shared_pause = atomic_load_explicit(&b->paused_until_ms, memory_order_relaxed);
        if (shared_pause > e->paused_until_ms)
            e->paused_until_ms = shared_pause;
        double next_due = -1;
        size_t ended_now = 0;
        if (now >= e->paused_until_ms) {
            while (oldest < claimed && mine[oldest]->state == JOB_DONE)
                oldest++;
            for (size_t i = oldest; i < claimed && running < concurrency; i++) {
                codat_job *job = mine[i];
                if (job->state != JOB_WAITING)
                    continue;
                if (job->next_at_ms > now) {
                    if (next_due < 0 || job->next_at_ms < next_due)
                        next_due = job->next_at_ms;
                    continue;
                }
                count_start(start_or_fail(e, job), job, &running, &ended_now, &next_due);
            }
            while (!exhausted && running < concurrency) {
                size_t i = atomic_fetch_add(&b->next_claim, 1);
                if (i >= b->n) {
                    exhausted = 1;
                    break;
                }
                codat_job *job = b->jobs[i];
                mine[claimed++] = job; /* a no-op when mine is b->jobs: then only this thread claims */
                job->start_ms = now;
                count_start(start_or_fail(e, job), job, &running, &ended_now, &next_due);
            }
        } else {
            next_due = e->paused_until_ms;
        }

        int ended = 0;
        if (running > 0) {
            int still = 0;
            curl_multi_perform(e->multi, &still);
            ended = drain_finished(e, &ended_now);
            running = still;
        }
        if (ended_now) {
            finished += ended_now;
            atomic_fetch_add(&b->done, ended_now);
        }
        if (ended > 0 && !(exhausted && finished == claimed))
            continue; /* slots opened, or retries were scheduled: plan again before waiting */
        /* This thread's share is done once nothing is left to claim and all it claimed has ended. A
         * helper then returns; the leader waits for the helpers' jobs too, still running the hooks. */
        if (exhausted && finished == claimed && (!leader || atomic_load(&b->done) == b->n))
            break;

        double wait = CODAT_CANCEL_POLL_MS;
        if (next_due >= 0 && next_due - now < wait)
            wait = next_due - now;
        poll_slice(e, wait);
    }
    e->batch = NULL;
    if (!leader)
        curl_multi_wakeup(b->leader_multi); /* the leader may be waiting for exactly this */
    else if (rc == CODAT_OK && progress)
        progress(ctx, atomic_load(&b->done), b->n);
    return rc;
}

/* ---- the asynchronous I/O thread ---- */

static void complete_async(codat_job *job)
{
    codat_result *r = job->out;
    codat_done_fn done = job->done;
    void *ctx = job->done_ctx;
    job_release(job);
    free(job);
    done(ctx, r); /* the callee owns r from here */
}

void *io_thread_main(void *arg)
{
    codat_client *c = arg;
    codat_engine *e = c->io_engine;
    codat_job *active = NULL, *tail = NULL; /* queued, running and waiting jobs, oldest first */
    int running = 0;

    for (;;) {
        pthread_mutex_lock(&c->lock);
        codat_job *incoming = c->io_incoming;
        c->io_incoming = NULL;
        int stop = c->io_stop;
        /* Swap the pending cancel ids out so that the lock is not held while aborting. */
        unsigned long long *cancels = c->io_cancels;
        size_t n_cancels = c->io_n_cancels;
        c->io_cancels = NULL;
        c->io_n_cancels = c->io_cap_cancels = 0;
        pthread_mutex_unlock(&c->lock);

        double now = codat_now_ms();
        /* Submissions arrive newest first; reverse them so that the oldest starts first. */
        codat_job *fifo = NULL;
        while (incoming) {
            codat_job *job = incoming;
            incoming = job->next;
            job->next = fifo;
            fifo = job;
        }
        while (fifo) {
            codat_job *job = fifo;
            fifo = job->next;
            job->start_ms = now;
            job->state = JOB_QUEUED;
            job->next = NULL;
            if (tail)
                tail->next = job;
            else
                active = job;
            tail = job;
        }

        if (stop || n_cancels) {
            codat_job **link = &active;
            while (*link) {
                codat_job *job = *link;
                int cancelled = stop;
                for (size_t k = 0; k < n_cancels && !cancelled; k++)
                    cancelled = cancels[k] == job->id;
                if (cancelled) {
                    if (job->state == JOB_RUNNING)
                        running--;
                    *link = job->next;
                    job_abort(e, job, CODAT_CANCELLED, stop ? "client is closed" : "cancelled");
                    /* A call cut short by close() ends as one made after it would: a caller error (which
                     * ValueError reports), not a cancel. Aborted as a cancel, so that no failure is logged. */
                    if (stop)
                        job->out->outcome = CODAT_BAD_INPUT;
                    complete_async(job);
                } else {
                    link = &job->next;
                }
            }
        }
        free(cancels);
        if (stop)
            break;

        /* Start due work, oldest first, while slots remain. */
        if (now >= e->paused_until_ms) {
            for (codat_job *job = active; job && running < CODAT_ASYNC_CONCURRENCY; job = job->next) {
                int due = job->state == JOB_QUEUED || (job->state == JOB_WAITING && job->next_at_ms <= now);
                if (!due)
                    continue;
                if (start_or_fail(e, job) == STARTED)
                    running++;
            }
        }

        if (running > 0) {
            int still = 0;
            curl_multi_perform(e->multi, &still);
            drain_finished(e, NULL);
            running = still;
        }
        /* Complete what is done, outside any lock, and see when the next retry is due (attempts that
         * just ended may have scheduled one). */
        codat_job **link = &active;
        int queued = 0;
        double next_due = now < e->paused_until_ms ? e->paused_until_ms : -1;
        while (*link) {
            codat_job *job = *link;
            if (job->state == JOB_DONE) {
                *link = job->next;
                complete_async(job);
                continue;
            }
            if (job->state == JOB_WAITING && (next_due < 0 || job->next_at_ms < next_due))
                next_due = job->next_at_ms;
            if (job->state == JOB_QUEUED)
                queued = 1;
            link = &job->next;
        }
        tail = active;
        while (tail && tail->next)
            tail = tail->next;
        double wait = 1000; /* new work and cancels wake the poll through curl_multi_wakeup */
        if (queued && running < CODAT_ASYNC_CONCURRENCY)
            wait = 0;
        if (next_due >= 0 && next_due - now < wait)
            wait = next_due - now;
        if (wait < 0)
            wait = 0;
        curl_multi_poll(e->multi, NULL, 0, (int)wait, NULL);
    }
    /* Every job has been completed. A completion may have closed or even freed the client from this very
     * thread (the last reference to it dropped here): the client then lives on until this exit. */
    client_io_thread_exit(c, e);
    return NULL;
}
