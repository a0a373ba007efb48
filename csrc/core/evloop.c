/* evloop.c: asynchronous calls driven by the caller's event loop (see evloop.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#endif
#include "evloop.h"
#include "sched.h"
#include "client.h"

#define KICK_ROUNDS 4         /* socket_action(TIMEOUT) rounds in one settle before leaving it to the timer */
#define REARM_SLACK_MS 0.05   /* a timer this much earlier than asked is kept: it fires, looks, re-arms */
#define LINGER_MS 1000.0      /* the loop's watch outlives the last call by this much: the next await reuses it */
#define READY_BATCH 64        /* epoll events taken per epoll_wait */

struct codat_evloop {
    codat_client *client;
    codat_sched *sched;
    codat_evloop_hooks hooks;
    void *ctx;
    unsigned fork_generation;
    unsigned long long next_id;
    size_t calls;                 /* submitted and not yet done() */
    int depth;                    /* inside libcurl or the scheduler: cancels and aborts wait until out */
    int freeing;                  /* evloop_free runs: no more watch() */
    int loop_refused;             /* watch() failed: the event loop is gone, so nothing can progress */
    int watched;                  /* the event loop watches epoll_fd */
    int lingering;                /* no call in flight: the timer is set to drop the watch */
    double curl_due_ms;           /* when libcurl wants CURL_SOCKET_TIMEOUT; -1: never */
    double sched_due_ms;          /* the scheduler's next retry or pause end; -1: none */
    double armed_ms;              /* the timerfd as set; -1: disarmed */
    int epoll_fd;                 /* the private set: libcurl's sockets, timer_fd and wake_fd */
    int timer_fd;
    int wake_fd;                  /* an eventfd another thread writes when it grants a company slot */
    unsigned long long *deferred; /* cancels asked for while depth > 0 */
    size_t n_deferred, cap_deferred;
    int abort_deferred;
    codat_outcome abort_outcome;
    char abort_message[64];
};

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

#ifdef __linux__

/* ---- libcurl's callbacks ---- */

/* Keeps libcurl's wish for fd in the private set: the mask it was given lives in socketp. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    codat_evloop *ev = userp;
    uint32_t old_events = (uint32_t)(uintptr_t)socketp, events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= EPOLLOUT;
    if (events == old_events)
        return 0;
    struct epoll_event e = {.events = events, .data.fd = fd};
    int op = old_events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (epoll_ctl(ev->epoll_fd, op, fd, &e) != 0 && op != EPOLL_CTL_DEL) {
        /* The set and libcurl's record disagree (a socket closed without a REMOVE leaves the set by
         * itself, and its number may come back): take the set as it is. */
        int retry = errno == EEXIST ? EPOLL_CTL_MOD : errno == ENOENT ? EPOLL_CTL_ADD : -1;
        if (retry < 0 || epoll_ctl(ev->epoll_fd, retry, fd, &e) != 0)
            return -1; /* libcurl fails the transfer on this socket */
    }
    if (what != CURL_POLL_REMOVE)
        curl_multi_assign(sched_multi(ev->sched), fd, (void *)(uintptr_t)events);
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
    ssize_t n = write(ev->wake_fd, &one, sizeof one); /* only fails when the counter is full: a wake is pending */
    (void)n;
}

/* ---- the event loop's watch and the timer ---- */

static double earliest(double a, double b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* at_ms < 0 disarms. A deadline already past still fires (a zero it_value would disarm instead). */
static void set_timer_fd(codat_evloop *ev, double at_ms)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (at_ms >= 0) {
        double delay_ms = at_ms - codat_now_ms();
        long long ns = delay_ms > 0 ? (long long)(delay_ms * 1e6) : 0;
        if (ns < 1000)
            ns = 1000;
        its.it_value.tv_sec = (time_t)(ns / 1000000000LL);
        its.it_value.tv_nsec = (long)(ns % 1000000000LL);
    }
    timerfd_settime(ev->timer_fd, 0, &its, NULL);
    ev->armed_ms = at_ms;
}

static void set_watch(codat_evloop *ev, int watch)
{
    if (watch == ev->watched || ev->freeing)
        return;
    if (ev->hooks.watch(ev->ctx, watch) == 0 || !watch)
        ev->watched = watch;
    else
        ev->loop_refused = 1;
}

/* The timer serves libcurl's deadline and the scheduler's; with no call in flight it serves the linger
 * (then the watch is dropped: an idle client keeps nothing registered in the loop). Re-set only when the
 * deadline moves earlier (libcurl moves it on every call, mostly later): a timer that fires too early finds
 * nothing due and re-arms. */
static void rearm(codat_evloop *ev)
{
    if (ev->freeing)
        return;
    if (ev->calls == 0) {
        if (ev->watched && !ev->lingering) {
            ev->lingering = 1;
            set_timer_fd(ev, codat_now_ms() + LINGER_MS);
        }
        return;
    }
    ev->lingering = 0;
    double due = earliest(ev->curl_due_ms, ev->sched_due_ms);
    if (due < 0 || (ev->armed_ms >= 0 && ev->armed_ms <= due + REARM_SLACK_MS))
        return; /* a timer set earlier, with nothing due, fires once for nothing */
    set_timer_fd(ev, due);
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
}

/* The timer fired: with no call in flight that is the linger's end; otherwise settle() looks at what is due. */
static void on_timer_fired(codat_evloop *ev)
{
    uint64_t expirations;
    ssize_t n = read(ev->timer_fd, &expirations, sizeof expirations);
    (void)n;
    ev->armed_ms = -1;
    if (ev->lingering && ev->calls == 0) {
        ev->lingering = 0;
        set_watch(ev, 0);
    }
}

void evloop_on_ready(codat_evloop *ev)
{
    struct epoll_event events[READY_BATCH];
    int n = epoll_wait(ev->epoll_fd, events, READY_BATCH, 0);
    ev->depth++;
    for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        if (fd == ev->timer_fd) {
            on_timer_fired(ev);
        } else if (fd == ev->wake_fd) {
            uint64_t count;
            ssize_t r = read(ev->wake_fd, &count, sizeof count);
            (void)r;
        } else {
            uint32_t e = events[i].events;
            int flags = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? CURL_CSELECT_IN : 0) |
                        ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) | ((e & EPOLLERR) ? CURL_CSELECT_ERR : 0);
            int running;
            curl_multi_socket_action(sched_multi(ev->sched), (curl_socket_t)fd, flags, &running);
        }
    }
    ev->depth--;
    if (ev->watched || ev->calls > 0)
        settle(ev);
}

/* ---- calls ---- */

unsigned long long evloop_submit(codat_evloop *ev, codat_endpoint which, const char *company_id,
                                 const codat_call_opts *opts, void *call_ctx, char *err, size_t errlen)
{
    if (codat_client_is_closed(ev->client)) {
        set_err(err, errlen, "client is closed");
        return 0;
    }
    set_watch(ev, 1); /* if the loop refuses, settle() ends the call with a transport error */
    codat_job *job = job_new(ev->client, which, company_id, opts);
    if (!job) {
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
        rearm(ev);
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
}

size_t evloop_calls(const codat_evloop *ev)
{
    return ev->calls;
}

int evloop_fd(const codat_evloop *ev)
{
    return ev->epoll_fd;
}

/* ---- life cycle ---- */

static void close_fds(codat_evloop *ev)
{
    int *fds[3] = {&ev->epoll_fd, &ev->timer_fd, &ev->wake_fd};
    for (int i = 0; i < 3; i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
}

static int open_fds(codat_evloop *ev)
{
    ev->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    ev->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); /* codat_now_ms's clock */
    ev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev->epoll_fd < 0 || ev->timer_fd < 0 || ev->wake_fd < 0)
        return -1;
    struct epoll_event timer = {.events = EPOLLIN, .data.fd = ev->timer_fd};
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = ev->wake_fd};
    if (epoll_ctl(ev->epoll_fd, EPOLL_CTL_ADD, ev->timer_fd, &timer) != 0 ||
        epoll_ctl(ev->epoll_fd, EPOLL_CTL_ADD, ev->wake_fd, &wake) != 0)
        return -1;
    return 0;
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
    if (open_fds(ev) != 0)
        goto fail;
    ev->sched = sched_new(c, CODAT_ASYNC_CONCURRENCY, on_job_done, on_slot_granted, ev);
    if (!ev->sched) {
        errno = ENOMEM;
        goto fail;
    }
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
fail:;
    int saved = errno;
    close_fds(ev);
    free(ev);
    errno = saved;
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
        close_fds(ev);
    }
    /* else: a forked child; the handles and sockets are the parent's: leaked rather than touched. */
    free(ev->deferred);
    client_unhold(ev->client);
    free(ev);
}

#else /* not Linux: no private epoll set; the binding falls back to the I/O thread */

codat_evloop *evloop_new(codat_client *c, const codat_evloop_hooks *hooks, void *ctx)
{
    (void)c, (void)hooks, (void)ctx;
    errno = ENOSYS;
    return NULL;
}
void evloop_free(codat_evloop *ev) { (void)ev; }
int evloop_fd(const codat_evloop *ev) { (void)ev; return -1; }
unsigned long long evloop_submit(codat_evloop *ev, codat_endpoint which, const char *company_id,
                                 const codat_call_opts *opts, void *call_ctx, char *err, size_t errlen)
{
    (void)ev, (void)which, (void)company_id, (void)opts, (void)call_ctx;
    set_err(err, errlen, "not supported on this system");
    return 0;
}
void evloop_cancel(codat_evloop *ev, unsigned long long id) { (void)ev, (void)id; }
void evloop_abort_all(codat_evloop *ev, codat_outcome outcome, const char *message)
{
    (void)ev, (void)outcome, (void)message;
}
size_t evloop_calls(const codat_evloop *ev) { (void)ev; return 0; }
void evloop_on_ready(codat_evloop *ev) { (void)ev; }

#endif
