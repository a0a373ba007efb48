/* evloop.h: asynchronous calls driven by the caller's event loop instead of a thread of ours.
 *
 * libcurl's socket interface (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), as event-loop HTTP clients on
 * libcurl use it, with one difference: the sockets libcurl asks to watch, its timer and the wake descriptor
 * all live in one private epoll set of ours (epoll_ctl and a timerfd, plain syscalls), and the event loop
 * watches only that set's descriptor, for reading. Re-arming a watch per transfer is then a syscall instead
 * of an add_reader/remove_reader pair and a TimerHandle in Python (about half of what an await cost over a
 * blocking call, callgrind). When the set is readable the loop calls evloop_on_ready, which runs
 * curl_multi_socket_action and then the scheduler (sched.h) on the loop's own thread: no thread hop, no
 * wake-up across CPUs per call; the binding holds the GIL throughout and settles the caller's future
 * directly.
 *
 * One evloop per (client, event loop). Every function below runs on that loop's thread, except that the
 * wake descriptor (in the set) may be written from any thread (a company slot granted elsewhere).
 * Linux only (epoll, timerfd, eventfd): elsewhere evloop_new fails with ENOSYS and awaits use the
 * client's I/O thread. */
#ifndef CODAT_EVLOOP_H
#define CODAT_EVLOOP_H

#include "codat.h"

typedef struct {
    /* watch = 1: watch evloop_fd for reading and call evloop_on_ready when it is readable; 0: stop. Asked
     * for when the first call starts, and to stop a while after the last one ended (LINGER_MS), so that
     * awaits one after another keep one watch. Returns 0, or -1 when the event loop refused. */
    int (*watch)(void *ctx, int watch);
    /* A call ended. call_ctx is the submitter's; the callee owns result (malloc'd: codat_result_clear,
     * then free). Runs on the loop's thread inside the functions below (a submission's too: a call that
     * fails at once, out of memory, ends there). */
    void (*done)(void *ctx, void *call_ctx, codat_result *result);
} codat_evloop_hooks;

typedef struct codat_evloop codat_evloop;

/* NULL with errno set when out of memory or descriptors (ENOSYS: not on Linux). The evloop keeps c's memory
 * alive (not its open state) until evloop_free. */
codat_evloop *evloop_new(codat_client *c, const codat_evloop_hooks *hooks, void *ctx);
/* Aborts what is in flight (done() still runs for each, with outcome CODAT_CANCELLED) and frees. watch is
 * no longer called: the event loop must already have dropped its watch (or be closed). */
void evloop_free(codat_evloop *ev);
/* The descriptor the event loop watches for reading (the private epoll set). */
int evloop_fd(const codat_evloop *ev);

/* Starts a call (its request goes out before this returns when a connection is free). Returns its id
 * (> 0), or 0 with err filled (the client is closed, or out of memory). When the event loop refuses to
 * watch, the call ends at once with CODAT_TRANSPORT. */
unsigned long long evloop_submit(codat_evloop *ev, codat_endpoint which, const char *company_id,
                                 const codat_call_opts *opts, void *call_ctx, char *err, size_t errlen);
/* Aborts the call (done() runs with CODAT_CANCELLED) if it has not ended; an unknown id is ignored. */
void evloop_cancel(codat_evloop *ev, unsigned long long id);
/* Ends every call in flight with outcome and message (close(): CODAT_BAD_INPUT, "client is closed"). */
void evloop_abort_all(codat_evloop *ev, codat_outcome outcome, const char *message);
size_t evloop_calls(const codat_evloop *ev);    /* in flight */

/* evloop_fd is readable: a socket is ready, the timer fired, or another thread woke us. */
void evloop_on_ready(codat_evloop *ev);

#endif
