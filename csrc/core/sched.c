/* sched.c: see sched.h. A job is in exactly one of four lists while the scheduler has it: ready (new, or
 * granted a company slot), timed (a retry or resend due at next_at_ms), running, slot_wait (in its
 * company's wait list). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include "sched.h"
#include "client.h"

enum { LIST_NONE = 0, LIST_READY, LIST_TIMED, LIST_RUNNING, LIST_SLOT_WAIT };

typedef struct {
    codat_job *head, *tail;
    size_t n;
} job_list;

struct codat_sched {
    codat_client *client;
    CURLM *multi;
    easy_pool easies;
    uint64_t rng;
    int concurrency;
    sched_done_fn done;
    sched_wake_fn wake;
    void *ctx;
    sched_claim_fn claim;
    void *claim_ctx;
    _Atomic double *shared_pause;
    double paused_until_ms;       /* a 429 with Retry-After holds back every start until then */
    job_list lists[5];            /* indexed by LIST_* (LIST_NONE unused) */
    atomic_int grants;            /* a job of ours in a wait list was granted a slot */
    atomic_int wakes_in_flight;   /* grants whose wake has yet to return (slots.h) */
};

/* ---- lists ---- */

static void list_push(codat_sched *s, int which, codat_job *job, int front)
{
    job_list *l = &s->lists[which];
    job->list = (unsigned char)which;
    if (front) {
        job->prev = NULL;
        job->next = l->head;
        if (l->head)
            l->head->prev = job;
        else
            l->tail = job;
        l->head = job;
    } else {
        job->next = NULL;
        job->prev = l->tail;
        if (l->tail)
            l->tail->next = job;
        else
            l->head = job;
        l->tail = job;
    }
    l->n++;
}

static void list_remove(codat_sched *s, codat_job *job)
{
    job_list *l = &s->lists[job->list];
    if (job->prev)
        job->prev->next = job->next;
    else
        l->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    else
        l->tail = job->prev;
    l->n--;
    job->prev = job->next = NULL;
    job->list = LIST_NONE;
}

/* ---- life of a scheduler ---- */

static void on_grant(void *arg)
{
    codat_sched *s = arg;
    atomic_store(&s->grants, 1);
    if (s->wake)
        s->wake(s->ctx);
    else
        curl_multi_wakeup(s->multi);
}

void sched_configure(codat_sched *s, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx)
{
    /* A grant's wake still running elsewhere would call the old callbacks: let it end first (it is short). */
    while (atomic_load(&s->wakes_in_flight) > 0)
        sched_yield();
    s->concurrency = concurrency < 1 ? 1 : concurrency;
    s->done = done;
    s->wake = wake;
    s->ctx = ctx;
    s->claim = NULL;
    s->claim_ctx = NULL;
    s->shared_pause = NULL;
    s->paused_until_ms = 0;
    atomic_store(&s->grants, 0);
}

codat_sched *sched_new(codat_client *c, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx)
{
    codat_sched *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->client = c;
    s->multi = curl_multi_init();
    if (!s->multi) {
        free(s);
        return NULL;
    }
    /* HTTP/2 multiplexing where the server offers it (the default), and no cap on connections: the
     * callers' concurrency bounds it. */
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    s->rng = (uint64_t)(uintptr_t)s ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(codat_now_ms() * 1000.0);
    if (!s->rng)
        s->rng = 0x9E3779B97F4A7C15ULL;
    atomic_init(&s->grants, 0);
    atomic_init(&s->wakes_in_flight, 0);
    sched_configure(s, concurrency, done, wake, ctx);
    return s;
}

void sched_set_source(codat_sched *s, sched_claim_fn claim, void *claim_ctx, _Atomic double *shared_pause)
{
    s->claim = claim;
    s->claim_ctx = claim_ctx;
    s->shared_pause = shared_pause;
}

void sched_free(codat_sched *s)
{
    if (!s)
        return;
    while (atomic_load(&s->wakes_in_flight) > 0)
        sched_yield(); /* a wake about to reach s */
    easy_pool_free(&s->easies);
    curl_multi_cleanup(s->multi);
    free(s);
}

CURLM *sched_multi(codat_sched *s)
{
    return s->multi;
}

int sched_idle(const codat_sched *s)
{
    return !s->lists[LIST_READY].n && !s->lists[LIST_TIMED].n && !s->lists[LIST_RUNNING].n &&
           !s->lists[LIST_SLOT_WAIT].n;
}

int sched_running(const codat_sched *s)
{
    return (int)s->lists[LIST_RUNNING].n;
}

int sched_slot_waiting(const codat_sched *s)
{
    return (int)s->lists[LIST_SLOT_WAIT].n;
}

int job_init(codat_job *job, codat_client *c, codat_endpoint which, const char *company_id,
             const codat_call_opts *opts, codat_result *out)
{
    return job_prepare(job, &c->net, which, company_id, opts, out);
}

codat_job *job_new(codat_client *c, codat_endpoint which, const char *company_id, const codat_call_opts *opts)
{
    codat_job *job = malloc(sizeof *job);
    codat_result *out = malloc(sizeof *out);
    if (!job || !out) {
        free(job);
        free(out);
        return NULL;
    }
    codat_result_init(out);
    if (job_init(job, c, which, company_id, opts, out) != 0) {
        job_free(job);
        return NULL;
    }
    return job;
}

void job_free(codat_job *job)
{
    codat_result *out = job->out;
    job_release(job);
    free(out); /* nothing in it yet: the job never ran */
    free(job);
}

void sched_add(codat_sched *s, codat_job *job, double now_ms)
{
    job->start_ms = now_ms;
    job->state = JOB_QUEUED;
    list_push(s, LIST_READY, job, 0);
}

/* ---- ending jobs ---- */

static void give_slot(codat_sched *s, codat_job *job)
{
    if (!job->holds_slot)
        return;
    job->holds_slot = 0;
    company_slot_give(&s->client->slots, job->company_key);
}

/* The job has left every list and holds nothing: hand it to the driver. */
static void job_done(codat_sched *s, codat_job *job)
{
    if (s->done)
        s->done(s->ctx, job);
}

/* Ends a job wherever it is: its attempt stopped, its slot (or its place in a wait list) given up. */
static void drop_job(codat_sched *s, codat_job *job, codat_outcome outcome, const char *message)
{
    if (job->list == LIST_RUNNING)
        attempt_detach(s->multi, &s->easies, job);
    if (job->list == LIST_SLOT_WAIT)
        company_slot_unwait(&s->client->slots, &job->waiter); /* passes on a slot granted meanwhile */
    give_slot(s, job);
    if (job->list != LIST_NONE)
        list_remove(s, job);
    attempt_abort(job, outcome, message);
    job_done(s, job);
}

void sched_cancel(codat_sched *s, unsigned long long id, codat_outcome outcome, const char *message)
{
    for (int l = LIST_READY; l <= LIST_SLOT_WAIT; l++)
        for (codat_job *job = s->lists[l].head; job; job = job->next)
            if (job->id == id) {
                drop_job(s, job, outcome, message);
                return;
            }
}

void sched_abort_all(codat_sched *s, codat_outcome outcome, const char *message)
{
    for (int l = LIST_READY; l <= LIST_SLOT_WAIT; l++)
        while (s->lists[l].head)
            drop_job(s, s->lists[l].head, outcome, message);
}

/* ---- starting attempts ---- */

/* Starts an attempt of job (which is in no list), taking its company's slot first unless it holds one. */
static void start_one(codat_sched *s, codat_job *job)
{
    codat_client *c = s->client;
    if (!job->holds_slot) {
        job->waiter.wake = on_grant;
        job->waiter.wake_ctx = s;
        job->waiter.wakes_in_flight = &s->wakes_in_flight;
        int got = company_slot_take(&c->slots, job->company_key, &job->waiter);
        if (got == 0) {
            attempt_log_slot_wait(job, c->slots.limit);
            job->state = JOB_SLOT_WAIT;
            list_push(s, LIST_SLOT_WAIT, job, 0);
            return;
        }
        job->holds_slot = got == 1;
    }
    if (!job->holds_slot || attempt_start(s->multi, &s->easies, &c->net, job) != 0) {
        give_slot(s, job);
        attempt_abort(job, CODAT_NO_MEMORY, "out of memory");
        job_done(s, job);
        return;
    }
    job->state = JOB_RUNNING;
    list_push(s, LIST_RUNNING, job, 0);
}

/* Jobs whose wait for a slot ended (another thread's give handed it over) go first in the ready list, in
 * the order they waited: they are the oldest. */
static void take_grants(codat_sched *s)
{
    /* A plain load first: the exchange (a locked instruction) only when a grant came. */
    if (!atomic_load_explicit(&s->grants, memory_order_relaxed) || !atomic_exchange(&s->grants, 0))
        return;
    job_list granted = {0};
    codat_job *job = s->lists[LIST_SLOT_WAIT].head;
    while (job) {
        codat_job *next = job->next;
        if (atomic_load(&job->waiter.granted)) {
            atomic_store(&job->waiter.granted, 0);
            job->holds_slot = 1;
            list_remove(s, job);
            job->next = granted.head; /* reversed here, pushed to the front in reverse below */
            granted.head = job;
        }
        job = next;
    }
    while (granted.head) {
        job = granted.head;
        granted.head = job->next;
        job->state = JOB_QUEUED;
        list_push(s, LIST_READY, job, 1);
    }
}

static void note_pause(codat_sched *s, double until_ms)
{
    if (until_ms > s->paused_until_ms)
        s->paused_until_ms = until_ms;
    if (!s->shared_pause)
        return;
    double seen = atomic_load(s->shared_pause);
    while (until_ms > seen && !atomic_compare_exchange_weak(s->shared_pause, &seen, until_ms))
        ;
}

static int has_room(const codat_sched *s)
{
    return (int)s->lists[LIST_RUNNING].n < s->concurrency;
}

/* Due retries, oldest first; returns the earliest due time of those not due yet (or -1). */
static double start_due_retries(codat_sched *s, double now_ms)
{
    double next_due = -1;
    codat_job *job = s->lists[LIST_TIMED].head;
    while (job) {
        codat_job *next = job->next;
        if (job->next_at_ms > now_ms) {
            if (next_due < 0 || job->next_at_ms < next_due)
                next_due = job->next_at_ms;
        } else if (has_room(s)) {
            list_remove(s, job);
            start_one(s, job);
        }
        job = next;
    }
    return next_due;
}

double sched_start_due(codat_sched *s, double now_ms)
{
    take_grants(s);
    if (s->shared_pause) {
        double shared = atomic_load_explicit(s->shared_pause, memory_order_relaxed);
        if (shared > s->paused_until_ms)
            s->paused_until_ms = shared;
    }
    /* A 429 that named a Retry-After pauses every start (in a batch, in every thread of it), so that a
     * batch slows down instead of hammering the server. */
    if (now_ms < s->paused_until_ms)
        return s->paused_until_ms - now_ms;
    job_list *ready = &s->lists[LIST_READY];
    while (has_room(s) && ready->head && ready->head->holds_slot) {
        codat_job *job = ready->head;
        list_remove(s, job);
        start_one(s, job);
    }
    double next_due = start_due_retries(s, now_ms); /* they are older than new jobs */
    while (has_room(s) && ready->head) {
        codat_job *job = ready->head;
        list_remove(s, job);
        start_one(s, job);
    }
    while (has_room(s) && s->claim) {
        codat_job *job = s->claim(s->claim_ctx);
        if (!job)
            break;
        job->start_ms = now_ms;
        start_one(s, job);
    }
    return next_due < 0 ? -1 : next_due - now_ms;
}

/* ---- applying verdicts ---- */

static double next_jitter(codat_sched *s)
{
    /* xorshift64*: jitter only needs to decorrelate clients, not to be unpredictable. */
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0; /* [0, 1) */
}

static void apply_verdict(codat_sched *s, codat_job *job, const judge_verdict *v, double now_ms)
{
    if (v->rate_limit_seen)
        rate_limit_note(&s->client->rate, job->rl_limit, job->rl_remaining, job->rl_reset);
    attempt_log_verdict(job, v, now_ms);
    switch (v->kind) {
    case VERDICT_RESEND:
        job->next_at_ms = now_ms;
        job->state = JOB_WAITING;
        list_push(s, LIST_TIMED, job, 1);
        break;
    case VERDICT_RETRY:
        job->retries_done++;
        job->next_at_ms = v->retry_at_ms;
        job->state = JOB_WAITING;
        list_push(s, LIST_TIMED, job, 0);
        if (v->pause_until_ms > 0)
            note_pause(s, v->pause_until_ms);
        break;
    default:
        attempt_finish(job, v);
        job_done(s, job);
    }
}

int sched_collect(codat_sched *s, double now_ms)
{
    int ended = 0, left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        if (now_ms < 0)
            now_ms = codat_now_ms(); /* read once, and only when an attempt did end */
        codat_job *job = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&job);
        attempt_facts facts;
        judge_verdict verdict;
        attempt_collect(job, msg->data.result, &facts);
        judge(&facts, &job->retry, job->retries_done, job->start_ms, now_ms, next_jitter(s), &verdict);
        attempt_detach(s->multi, &s->easies, job); /* msg points into the handle: not used from here on */
        list_remove(s, job);
        give_slot(s, job);
        apply_verdict(s, job, &verdict, now_ms);
        ended++;
    }
    return ended;
}
