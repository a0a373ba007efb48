/* client.h: the client object, as the core's own files see it (codat.h keeps it opaque). Its fields are
 * written by client.c and client_base.c; the scheduler reads the settings, the company slots and the
 * rate-limit box, and the I/O thread its own fields, under `lock`. */
#ifndef CODAT_CLIENT_H
#define CODAT_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <curl/curl.h>
#include "attempt.h"
#include "ratelimit.h"
#include "slots.h"

typedef struct codat_sched codat_sched;

struct codat_client {
    pthread_mutex_t lock;         /* guards the pool of schedulers and the async queue */
    pthread_mutex_t close_lock;   /* one close() at a time (it may join the I/O thread); never taken by it */
    unsigned fork_generation;     /* the process generation the handles below belong to */
    atomic_int closed;            /* set under lock, together with io_stop; read anywhere */
    char *auth_header;            /* kept only to wipe it when freed; its forms to redact are in net.secrets */
    char *user_agent;
    attempt_settings net;         /* what every attempt needs (attempt.h) */
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    codat_sched *idle_scheds[CODAT_MAX_IDLE_SCHEDS]; /* for the next blocking call or batch thread */
    int n_idle_scheds;
    rate_limit_box rate;          /* the latest rate-limit figures */
    company_slots slots;          /* requests in flight per company, with their wait lists */

    /* The asynchronous I/O thread (io_thread.c). Only under lock: the thread is woken (curl_multi_wakeup)
     * only through io_sched, which the thread itself clears before freeing it as it ends. */
    int io_started;               /* the thread runs (or has yet to be joined) */
    pthread_t io_thread;
    codat_sched *io_sched;        /* the thread's own scheduler; NULL once it is being freed */
    codat_job *io_incoming;       /* submitted, not yet seen by the I/O thread (newest first) */
    unsigned long long io_next_id;
    unsigned long long *io_cancels; /* ids asked to stop, not yet seen by the I/O thread */
    size_t io_n_cancels, io_cap_cancels;
    int io_stop;
    int io_joining;               /* a close() on another thread has committed to join the thread */
    int io_detached;              /* closed from the thread itself: it ends on its own, nobody joins it */
    int io_free_pending;          /* codat_client_free ran while a detached thread or an evloop lived: the
                                   * last of them frees the client */
    int evloop_holds;             /* event-loop drivers alive (evloop.c): each keeps the client's memory */
};

/* client_base.c: what the client's callers below client.c need. */
unsigned codat_fork_generation(void);
/* In a forked child, drops the parent's handles (without touching them) and starts over. */
void client_check_fork(codat_client *c);
int client_share_setup(codat_client *c);
/* A scheduler for one call or batch thread, from the pool (or new); NULL when out of memory. */
codat_sched *client_sched_acquire(codat_client *c, int concurrency, void (*done)(void *, codat_job *), void *ctx);
void client_sched_release(codat_client *c, codat_sched *s);
/* Frees the idle schedulers (close()). */
void client_sched_drain(codat_client *c);
void client_destroy(codat_client *c);
/* An event-loop driver (evloop.c) keeps the client's memory, not its open state, until it is freed:
 * codat_client_free then leaves the freeing to the last client_unhold. */
void client_hold(codat_client *c);
void client_unhold(codat_client *c);

#endif
