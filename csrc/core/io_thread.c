/* io_thread.c: asynchronous calls, driven by one background I/O thread per client (started on first use)
 * that runs one scheduler. Submissions and cancels reach it through the client's queue, under the client's
 * lock, and wake it with curl_multi_wakeup; it completes each call by calling its done() with no lock
 * held. See docs/design.md for its life cycle with close() and free(). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "client.h"
#include "sched.h"

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static void complete_async(void *arg, codat_job *job)
{
    (void)arg;
    codat_result *r = job->out;
    codat_done_fn done = job->done;
    void *ctx = job->done_ctx;
    job_release(job);
    free(job);
    done(ctx, r); /* the callee owns r from here */
}

/* What the callers posted since the last look: new jobs (oldest first) and ids to cancel. */
typedef struct {
    codat_job *incoming;
    unsigned long long *cancels;
    size_t n_cancels;
    int stop;
} io_mail;

static void take_mail(codat_client *c, io_mail *m)
{
    pthread_mutex_lock(&c->lock);
    codat_job *newest_first = c->io_incoming;
    c->io_incoming = NULL;
    m->stop = c->io_stop;
    /* Swap the pending cancel ids out so that the lock is not held while aborting. */
    m->cancels = c->io_cancels;
    m->n_cancels = c->io_n_cancels;
    c->io_cancels = NULL;
    c->io_n_cancels = c->io_cap_cancels = 0;
    pthread_mutex_unlock(&c->lock);
    m->incoming = NULL;
    while (newest_first) {
        codat_job *job = newest_first;
        newest_first = job->next;
        job->next = m->incoming;
        m->incoming = job;
    }
}

/* The end of the I/O thread: frees its scheduler and, when the client was freed from that thread, the
 * client. */
static void io_thread_exit(codat_client *c, codat_sched *s)
{
    pthread_mutex_lock(&c->lock);
    c->io_sched = NULL; /* no wakeup can reach the scheduler from here on */
    pthread_mutex_unlock(&c->lock);
    sched_free(s); /* while the client lives: its easy handles use the client's share handle */
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

static void *io_thread_main(void *arg)
{
    codat_client *c = arg;
    codat_sched *s = c->io_sched;
    for (;;) {
        io_mail m;
        take_mail(c, &m);
        double now = codat_now_ms();
        while (m.incoming) {
            codat_job *job = m.incoming;
            m.incoming = job->next;
            sched_add(s, job, now);
        }
        for (size_t k = 0; !m.stop && k < m.n_cancels; k++) /* closing ends them all below */
            sched_cancel(s, m.cancels[k], CODAT_CANCELLED, "cancelled");
        free(m.cancels);
        if (m.stop) {
            /* A call cut short by close() ends as one made after it would: a caller error (which
             * ValueError reports), not a cancel. */
            sched_abort_all(s, CODAT_BAD_INPUT, "client is closed");
            break;
        }
        double due = sched_start_due(s, now);
        if (sched_running(s) > 0) {
            int still = 0;
            curl_multi_perform(sched_multi(s), &still);
            if (sched_collect(s, -1) > 0)
                continue; /* slots opened or retries were planned: start them before waiting */
        }
        double wait = 1000; /* new work and cancels wake the poll through curl_multi_wakeup */
        if (due >= 0 && due < wait)
            wait = due;
        curl_multi_poll(sched_multi(s), NULL, 0, wait > 0 ? (int)wait : 0, NULL);
    }
    /* Every job has been completed. A completion may have closed or even freed the client from this very
     * thread (the last reference to it dropped here): the client then lives on until this exit. */
    io_thread_exit(c, s);
    return NULL;
}

static int ensure_io_thread(codat_client *c, char *err, size_t errlen)
{
    /* Called with c->lock held. */
    if (c->io_started)
        return 0;
    c->io_sched = sched_new(c, CODAT_ASYNC_CONCURRENCY, complete_async, NULL, NULL);
    if (!c->io_sched) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_create(&c->io_thread, NULL, io_thread_main, c) != 0) {
        sched_free(c->io_sched);
        c->io_sched = NULL;
        set_err(err, errlen, "could not start the I/O thread");
        return -1;
    }
    c->io_started = 1;
    return 0;
}

/* Queues a prepared job for the I/O thread; returns its id, or 0 with a reason in err. */
static unsigned long long submit(codat_client *c, codat_job *job, char *err, size_t errlen)
{
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
        return 0;
    }
    unsigned long long id = job->id = ++c->io_next_id;
    job->next = c->io_incoming;
    c->io_incoming = job;
    curl_multi_wakeup(sched_multi(c->io_sched)); /* under the lock: the scheduler cannot be freed meanwhile */
    pthread_mutex_unlock(&c->lock);
    return id;
}

unsigned long long codat_get_token_async(codat_client *c, codat_endpoint which, const char *company_id,
                                         const codat_call_opts *opts, codat_done_fn done, void *ctx,
                                         char *err, size_t errlen)
{
    client_check_fork(c);
    if (c->closed) {
        set_err(err, errlen, "client is closed");
        return 0;
    }
    codat_job *job = job_new(c, which, company_id, opts);
    if (!job) {
        set_err(err, errlen, "out of memory");
        return 0;
    }
    job->done = done;
    job->done_ctx = ctx;
    unsigned long long id = submit(c, job, err, errlen);
    if (!id)
        job_free(job);
    return id;
}

void codat_async_cancel(codat_client *c, unsigned long long id)
{
    client_check_fork(c); /* in a forked child, io_sched is the parent's: its wakeup socket is shared with it */
    pthread_mutex_lock(&c->lock);
    if (!c->io_sched || c->io_stop || id == 0) {
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
    curl_multi_wakeup(sched_multi(c->io_sched)); /* under the lock: the scheduler cannot be freed meanwhile */
    pthread_mutex_unlock(&c->lock);
}
