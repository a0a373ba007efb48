/* evloop.h: asynchronous calls driven by the caller's event loop instead of a thread of ours.
 *
 * libcurl's socket interface, as Tornado's curl_httpclient uses it: libcurl says which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and when to call it back (CURLMOPT_TIMERFUNCTION); the event loop watches them
 * and calls evloop_on_socket / evloop_on_timer, which run curl_multi_socket_action and then the scheduler
 * (sched.h) on the loop's own thread. No thread hop and no wake-up across CPUs per call: the binding holds
 * the GIL throughout and settles the caller's future directly.
 *
 * One evloop per (client, event loop). Every function below runs on that loop's thread, except that the
 * wake descriptor may be written from any thread (a company slot granted elsewhere). */
#ifndef CODAT_EVLOOP_H
#define CODAT_EVLOOP_H

#include "codat.h"

#define CODAT_WATCH_READ 1
#define CODAT_WATCH_WRITE 2

typedef struct {
    /* Watch fd for CODAT_WATCH_READ/WRITE (new_mask) instead of old_mask; new_mask 0: stop watching it.
     * Returns 0, or -1 when the event loop refused (it is closed). */
    int (*watch)(void *ctx, int fd, int old_mask, int new_mask);
    /* Call evloop_on_timer in delay_ms (>= 0), replacing the timer asked for before; -1: no timer. */
    void (*set_timer)(void *ctx, double delay_ms);
    /* A call ended. call_ctx is the submitter's; the callee owns result (malloc'd: codat_result_clear,
     * then free). Runs on the loop's thread inside the functions below (a submission's too: a call that
     * fails at once, out of memory, ends there). */
    void (*done)(void *ctx, void *call_ctx, codat_result *result);
    /* busy = 1: a call waits for a company slot (watch evloop_wake_fd for reading); 0: none does (stop
     * watching it). */
    void (*busy)(void *ctx, int busy);
} codat_evloop_hooks;

typedef struct codat_evloop codat_evloop;

/* NULL when out of memory. The evloop keeps c's memory alive (not its open state) until evloop_free. */
codat_evloop *evloop_new(codat_client *c, const codat_evloop_hooks *hooks, void *ctx);
/* Aborts what is in flight (done() still runs for each, with outcome CODAT_CANCELLED) and frees. watch and
 * set_timer are no longer called: the event loop must already have dropped its watches (or be closed). */
void evloop_free(codat_evloop *ev);
/* Readable when another thread has something for this evloop: call evloop_on_wake then. */
int evloop_wake_fd(const codat_evloop *ev);

/* Starts a call (its request goes out before this returns when a connection is free). Returns its id
 * (> 0), or 0 with err filled (the client is closed, or out of memory). */
unsigned long long evloop_submit(codat_evloop *ev, codat_endpoint which, const char *company_id,
                                 const codat_call_opts *opts, void *call_ctx, char *err, size_t errlen);
/* Aborts the call (done() runs with CODAT_CANCELLED) if it has not ended; an unknown id is ignored. */
void evloop_cancel(codat_evloop *ev, unsigned long long id);
/* Ends every call in flight with outcome and message (close(): CODAT_BAD_INPUT, "client is closed"). */
void evloop_abort_all(codat_evloop *ev, codat_outcome outcome, const char *message);
size_t evloop_calls(const codat_evloop *ev);    /* in flight */

/* The event loop's callbacks: fd is ready (CODAT_WATCH_READ/WRITE); the timer fired; the wake fd is readable. */
void evloop_on_socket(codat_evloop *ev, int fd, int ready_mask);
void evloop_on_timer(codat_evloop *ev);
void evloop_on_wake(codat_evloop *ev);

#endif
