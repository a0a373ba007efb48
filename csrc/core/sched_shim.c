/* sched_shim.c: TEMPORARY. The scheduler interface of sched.h over today's engine functions (job_start_attempt,
 * job_finish_attempt, job_abort), so that the event-loop driver (evloop.c) can be written and measured
 * against the agreed names before h13core's sched.c lands. The lead deletes this file at the merge.
 *
 * What it does not do that sched.c will: a job whose company is at its limit is looked at again every
 * CODAT_SLOT_RECHECK_MS (job_start_attempt's own retry time) instead of waiting on the company's list, so
 * `wake` is never called from here. */
#include <stdlib.h>
#include "sched.h"

struct codat_sched {
    codat_engine *engine;         /* the multi handle, its idle easy handles, its Retry-After pause */
    int concurrency;
    int running;
    sched_done_fn done;
    void *ctx;
    codat_job *head, *tail;       /* started jobs (running, or waiting for a retry or a slot), oldest first:
                                   * at most `concurrency`, so scanning them is cheap */
    codat_job *queue_head, *queue_tail; /* not started yet, first come first served */
};

codat_sched *sched_new(codat_client *c, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx)
{
    (void)wake;
    codat_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->engine = engine_new(c);
    if (!s->engine) {
        free(s);
        return NULL;
    }
    s->concurrency = concurrency > 0 ? concurrency : 1;
    s->done = done;
    s->ctx = ctx;
    return s;
}

void sched_free(codat_sched *s)
{
    if (!s)
        return;
    engine_free(s->engine);
    free(s);
}

CURLM *sched_multi(codat_sched *s)
{
    return s->engine->multi;
}

static void append(codat_job **head, codat_job **tail, codat_job *job)
{
    job->next = NULL;
    if (*tail)
        (*tail)->next = job;
    else
        *head = job;
    *tail = job;
}

void sched_add(codat_sched *s, codat_job *job, double now_ms)
{
    job->state = JOB_QUEUED;
    job->start_ms = now_ms;
    append(&s->queue_head, &s->queue_tail, job);
}

static void unlink_from(codat_job **head, codat_job **tail, codat_job *prev, codat_job *job)
{
    if (prev)
        prev->next = job->next;
    else
        *head = job->next;
    if (*tail == job)
        *tail = prev;
    job->next = NULL;
}

static void unlink_job(codat_sched *s, codat_job *prev, codat_job *job)
{
    unlink_from(&s->head, &s->tail, prev, job);
}

/* Hands every finished job to done(), each unlinked first: done() may add or cancel others. */
static void deliver_finished(codat_sched *s)
{
    codat_job *prev = NULL, *job = s->head;
    while (job) {
        codat_job *next = job->next;
        if (job->state == JOB_DONE) {
            unlink_job(s, prev, job);
            s->done(s->ctx, job);
            job = prev ? prev->next : s->head;
            continue;
        }
        prev = job;
        job = next;
    }
}

/* Starts one job: 1 when it runs, 0 when it waits (its company is at its limit: looked at again in
 * CODAT_SLOT_RECHECK_MS), -1 when it ended at once (out of memory). */
static int start_one(codat_sched *s, codat_job *job)
{
    int rc = job_start_attempt(s->engine, job);
    if (rc == 0) {
        s->running++;
        return 1;
    }
    if (rc > 0)
        return 0;
    job_abort(s->engine, job, CODAT_NO_MEMORY, "out of memory");
    return -1;
}

double sched_start_due(codat_sched *s, double now_ms)
{
    codat_engine *e = s->engine;
    if (now_ms < e->paused_until_ms)
        return e->paused_until_ms - now_ms;
    int failed = 0;
    /* Due retries first (they are older), then new jobs. */
    for (codat_job *job = s->head; job && s->running < s->concurrency; job = job->next)
        if (job->state == JOB_WAITING && job->next_at_ms <= now_ms)
            failed |= start_one(s, job) < 0;
    while (s->queue_head && s->running < s->concurrency) {
        codat_job *job = s->queue_head;
        unlink_from(&s->queue_head, &s->queue_tail, NULL, job);
        append(&s->head, &s->tail, job);
        failed |= start_one(s, job) < 0;
    }
    if (failed)
        deliver_finished(s);
    double next_due = -1;
    for (codat_job *job = s->head; job; job = job->next)
        if (job->state == JOB_WAITING && (next_due < 0 || job->next_at_ms < next_due))
            next_due = job->next_at_ms;
    return next_due < 0 ? -1 : (next_due > now_ms ? next_due - now_ms : 0);
}

void sched_collect(codat_sched *s, double now_ms)
{
    (void)now_ms;
    codat_engine *e = s->engine;
    int left, ended = 0;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        codat_job *job = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
        job_finish_attempt(e, job, msg->data.result);
        s->running--;
        ended = 1;
    }
    if (ended)
        deliver_finished(s);
}

/* Ends one job early. A call cut short by close() ends as one made after it would (outcome
 * CODAT_BAD_INPUT, which the binding raises as ValueError); it is aborted as a cancel so that no failure
 * is logged for it. */
static void abort_unlinked(codat_sched *s, codat_job *job, codat_outcome outcome, const char *message)
{
    if (job->state == JOB_RUNNING)
        s->running--;
    job_abort(s->engine, job, CODAT_CANCELLED, message);
    job->out->outcome = outcome;
    s->done(s->ctx, job);
}

void sched_cancel(codat_sched *s, unsigned long long id, codat_outcome outcome, const char *message)
{
    for (codat_job *prev = NULL, *job = s->head; job; prev = job, job = job->next) {
        if (job->id == id) {
            unlink_job(s, prev, job);
            abort_unlinked(s, job, outcome, message);
            return;
        }
    }
    for (codat_job *prev = NULL, *job = s->queue_head; job; prev = job, job = job->next) {
        if (job->id == id) {
            unlink_from(&s->queue_head, &s->queue_tail, prev, job);
            abort_unlinked(s, job, outcome, message);
            return;
        }
    }
}

void sched_abort_all(codat_sched *s, codat_outcome outcome, const char *message)
{
    while (s->head) {
        codat_job *job = s->head;
        unlink_job(s, NULL, job);
        abort_unlinked(s, job, outcome, message);
    }
    while (s->queue_head) {
        codat_job *job = s->queue_head;
        unlink_from(&s->queue_head, &s->queue_tail, NULL, job);
        abort_unlinked(s, job, outcome, message);
    }
}

int sched_idle(const codat_sched *s)
{
    return s->head == NULL && s->queue_head == NULL;
}
