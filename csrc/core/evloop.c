/* evloop.c: asynchronous calls driven by the caller's event loop (see evloop.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif
#include "evloop.h"
#include "sched.h"
#include "client.h"

#define KICK_ROUNDS 4         /* socket_action(TIMEOUT) rounds in one settle before leaving it to the timer */
#define REARM_SLACK_MS 0.05   /* a timer this much earlier than asked is kept: it fires, looks, re-arms */

struct codat_evloop {
    codat_client *client;
    codat_sched *sched;
    codat_evloop_hooks hooks;
    void *ctx;
    unsigned fork_generation;
    unsigned long long next_id;
    size_t calls;                 /* submitted and not yet done() */
    int busy_said;                /* the last busy() told the binding */
    int depth;                    /* inside libcurl or the scheduler: cancels and aborts wait until out */
    int freeing;                  /* evloop_free runs: no more watch/set_timer */
    int loop_refused;             /* watch() failed: the event loop is gone, so nothing can progress */
    double curl_due_ms;           /* when libcurl wants CURL_SOCKET_TIMEOUT; -1: never */
    double sched_due_ms;          /* the scheduler's next retry or pause end; -1: none */
    double armed_ms;              /* the event loop's timer as asked for; -1: none */
    int wake_fds[2];              /* eventfd (both the same) or a pipe: [0] read, [1] written */
    unsigned long long *deferred; /* cancels asked for while depth > 0 */
    size_t n_deferred, cap_deferred;
    int abort_deferred;
    codat_outcome abort_outcome;
    char abort_message[64];
};

/* ---- libcurl's callbacks ---- */

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    codat_evloop *ev = userp;
    int old_mask = (int)(intptr_t)socketp;
    int new_mask = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        new_mask |= CODAT_WATCH_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        new_mask |= CODAT_WATCH_WRITE;
    if (new_mask == old_mask || ev->freeing)
        return 0;
    if (ev->hooks.watch(ev->ctx, (int)fd, old_mask, new_mask) < 0)
        ev->loop_refused = 1;
    if (what != CURL_POLL_REMOVE)
        curl_multi_assign(sched_multi(ev->sched), fd, (void *)(intptr_t)new_mask);
    return 0;
}

/* Called inside libcurl, where socket_action may not be re-entered: only note the time; settle() acts. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    codat_evloop *ev = userp;
    ev->curl_due_ms = timeout_ms < 0 ? -1 : codat_now_ms() + (double)timeout_ms;
    return 0;
}

/* ---- the scheduler's callbacks ---- */

static void on_job_done(void *p, codat_job *job)
{
    codat_evloop *ev = p;
    codat_result *r = job->out;
    void *call_ctx = job->done_ctx;
    job_release(job);
    free(job);
    ev->calls--;
    ev->hooks.done(ev->ctx, call_ctx, r);
}

static void on_slot_granted(void *p)
{
    codat_evloop *ev = p;
    uint64_t one = 1;
    ssize_t n = write(ev->wake_fds[1], &one, sizeof one); /* a full pipe is already a pending wake */
    (void)n;
}

/* ---- keeping the event loop's timer right ---- */

static double earliest(double a, double b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* Re-arms only when the deadline moves earlier (libcurl moves it on every call, mostly later): a timer
 * that fires too early finds nothing due and re-arms. */
static void rearm(codat_evloop *ev)
{
    if (ev->freeing)
        return;
    double due = earliest(ev->curl_due_ms, ev->sched_due_ms);
    if (due < 0) {
        if (ev->armed_ms >= 0 && ev->calls == 0) {
            ev->hooks.set_timer(ev->ctx, -1);
            ev->armed_ms = -1;
        }
        return;
    }
    if (ev->armed_ms >= 0 && ev->armed_ms <= due + REARM_SLACK_MS)
        return;
    double delay = due - codat_now_ms();
    ev->hooks.set_timer(ev->ctx, delay > 0 ? delay : 0);
    ev->armed_ms = due;
}

/* The wake descriptor matters only while a call waits for a company slot (another thread's grant writes to
 * it; an eventfd stays readable until read, so a grant made before the watch starts is not lost). Watching
 * it whenever calls were in flight cost an add_reader/remove_reader pair per sequential await (~50 k
 * instructions, callgrind). */
static void tell_busy(codat_evloop *ev)
{
    int busy = ev->calls > 0 && sched_slot_waiting(ev->sched) > 0;
    if (busy != ev->busy_said && !ev->freeing) {
        ev->busy_said = busy;
        ev->hooks.busy(ev->ctx, busy);
    }
}

/* ---- driving ---- */

/* Cancels and aborts asked for while the driver was inside libcurl or the scheduler (from a log handler, or
 * a finalizer that a completion ran), now that it is out; new ones asked for meanwhile are run too. */
static void run_deferred(codat_evloop *ev)
{
    ev->depth++;
    for (;;) {
        if (ev->n_deferred > 0) {
            sched_cancel(ev->sched, ev->deferred[--ev->n_deferred], CODAT_CANCELLED, "cancelled");
            continue;
        }
        if (ev->loop_refused && !ev->abort_deferred && ev->calls > 0) {
            ev->abort_deferred = 1;
            ev->abort_outcome = CODAT_TRANSPORT;
            snprintf(ev->abort_message, sizeof ev->abort_message, "the event loop refused to watch the connection");
        }
        ev->loop_refused = 0;
        if (!ev->abort_deferred)
            break;
        ev->abort_deferred = 0;
        sched_abort_all(ev->sched, ev->abort_outcome, ev->abort_message);
    }
    ev->depth--;
}

/* After libcurl ran: hand finished calls over, start what may start, and let libcurl send what was just
 * started (its timer says 0 after an added handle) before going back to the loop. */
static void settle(codat_evloop *ev)
{
    ev->depth++;
    for (int round = 0; round < KICK_ROUNDS; round++) {
        double now = codat_now_ms();
        if (ev->curl_due_ms >= 0 && ev->curl_due_ms <= now) {
            int running;
            ev->curl_due_ms = -1;
            curl_multi_socket_action(sched_multi(ev->sched), CURL_SOCKET_TIMEOUT, 0, &running);
        }
        sched_collect(ev->sched, now);
        double in_ms = sched_start_due(ev->sched, now);
        ev->sched_due_ms = in_ms < 0 ? -1 : now + in_ms;
        if (!(ev->curl_due_ms >= 0 && ev->curl_due_ms <= codat_now_ms()))
            break;
    }
    ev->depth--;
    if (ev->depth == 0)
        run_deferred(ev);
    rearm(ev);
    tell_busy(ev);
}

void evloop_on_socket(codat_evloop *ev, int fd, int ready_mask)
{
    int flags = ((ready_mask & CODAT_WATCH_READ) ? CURL_CSELECT_IN : 0) |
                ((ready_mask & CODAT_WATCH_WRITE) ? CURL_CSELECT_OUT : 0);
    int running;
    ev->depth++;
    curl_multi_socket_action(sched_multi(ev->sched), (curl_socket_t)fd, flags, &running);
    ev->depth--;
    settle(ev);
}

void evloop_on_timer(codat_evloop *ev)
{
    ev->armed_ms = -1;
    settle(ev);
}

void evloop_on_wake(codat_evloop *ev)
{
    uint64_t count;
    while (read(ev->wake_fds[0], &count, sizeof count) > 0)
        ;
    settle(ev);
}

/* ---- calls ---- */

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

unsigned long long evloop_submit(codat_evloop *ev, codat_endpoint which, const char *company_id,
                                 const codat_call_opts *opts, void *call_ctx, char *err, size_t errlen)
{
    if (codat_client_is_closed(ev->client)) {
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
    if (job_init(job, ev->client, which, company_id, opts, out) != 0) {
        job_release(job);
        free(job);
        free(out);
        set_err(err, errlen, "out of memory");
        return 0;
    }
    job->done_ctx = call_ctx;
    unsigned long long id = job->id = ++ev->next_id;
    ev->calls++;
    sched_add(ev->sched, job, codat_now_ms());
    if (ev->depth > 0) {
        /* Submitted from code libcurl or the scheduler called (a log handler): started on the next turn. */
        ev->sched_due_ms = codat_now_ms();
        return id;
    }
    settle(ev); /* the request goes out now when a connection is free */
    return id;
}

void evloop_cancel(codat_evloop *ev, unsigned long long id)
{
    if (ev->depth > 0) {
        if (ev->n_deferred == ev->cap_deferred) {
            size_t cap = ev->cap_deferred ? ev->cap_deferred * 2 : 8;
            unsigned long long *p = realloc(ev->deferred, cap * sizeof *p);
            if (!p)
                return; /* the call then runs to its end; done() still comes */
            ev->deferred = p;
            ev->cap_deferred = cap;
        }
        ev->deferred[ev->n_deferred++] = id;
        return;
    }
    ev->depth++;
    sched_cancel(ev->sched, id, CODAT_CANCELLED, "cancelled");
    ev->depth--;
    if (ev->depth == 0)
        settle(ev); /* a slot was freed: the next call may start (settle runs what was deferred) */
}

void evloop_abort_all(codat_evloop *ev, codat_outcome outcome, const char *message)
{
    ev->abort_deferred = 1;
    ev->abort_outcome = outcome;
    snprintf(ev->abort_message, sizeof ev->abort_message, "%s", message);
    if (ev->depth > 0)
        return;
    run_deferred(ev);
    rearm(ev);
    tell_busy(ev);
}

size_t evloop_calls(const codat_evloop *ev)
{
    return ev->calls;
}

int evloop_wake_fd(const codat_evloop *ev)
{
    return ev->wake_fds[0];
}

/* ---- life cycle ---- */

static int open_wake_fds(int fds[2])
{
#ifdef __linux__
    fds[0] = fds[1] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fds[0] < 0 ? -1 : 0;
#else
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
#endif
}

static void close_wake_fds(int fds[2])
{
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0 && fds[1] != fds[0])
        close(fds[1]);
}

codat_evloop *evloop_new(codat_client *c, const codat_evloop_hooks *hooks, void *ctx)
{
    codat_evloop *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->client = c;
    ev->hooks = *hooks;
    ev->ctx = ctx;
    ev->fork_generation = codat_fork_generation();
    ev->curl_due_ms = ev->sched_due_ms = ev->armed_ms = -1;
    ev->wake_fds[0] = ev->wake_fds[1] = -1;
    if (open_wake_fds(ev->wake_fds) != 0)
        goto fail;
    ev->sched = sched_new(c, CODAT_ASYNC_CONCURRENCY, on_job_done, on_slot_granted, ev);
    if (!ev->sched)
        goto fail;
    CURLM *multi = sched_multi(ev->sched);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, ev);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, ev);
    /* libcurl's default keeps 4 idle connections per easy handle still added: as a burst of awaits drains,
     * it would close the connections the next burst needs. Keep as many as may be in flight. */
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)CODAT_ASYNC_CONCURRENCY);
    client_hold(c);
    return ev;
fail:
    close_wake_fds(ev->wake_fds);
    free(ev);
    return NULL;
}

void evloop_free(codat_evloop *ev)
{
    if (!ev)
        return;
    ev->freeing = 1;
    if (ev->fork_generation == codat_fork_generation()) {
        ev->depth++;
        sched_abort_all(ev->sched, CODAT_CANCELLED, "cancelled");
        ev->depth--;
        sched_free(ev->sched);
        close_wake_fds(ev->wake_fds);
    }
    /* else: a forked child; the handles and sockets are the parent's: leaked rather than touched. */
    free(ev->deferred);
    client_unhold(ev->client);
    free(ev);
}
