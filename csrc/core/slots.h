/* slots.h: per-company counts of requests in flight, so that a client never has more than Codat's limit
 * (10) running for one company, whichever mix of threads, batches and async calls asks. Pure: no locks
 * and no libcurl here; the client wraps every call in its own mutex. */
#ifndef CODAT_SLOTS_H
#define CODAT_SLOTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct company_waiter company_waiter;

/* Open addressing on a 64-bit hash of the company id, with linear probing and backward-shift deletion
 * (no tombstones, so a long-lived client's table never fills with dead entries). Only companies with
 * requests in flight have an entry. Two ids whose hashes collide share one count: that can only make
 * the limit stricter, and with 64 bits it does not happen in practice. */
typedef struct {
    uint64_t *keys;   /* 0 = empty */
    unsigned *counts;
    company_waiter **first, **last; /* each company's wait list, oldest first (only while it is at its limit) */
    size_t cap;       /* a power of two, or 0 before the first use */
    size_t used;
} codat_slots;

uint64_t codat_company_key(const char *company_id); /* never 0 */

/* Takes a slot for key if fewer than limit are taken: 1 taken, 0 the company is at its limit, -1 out of
 * memory. */
int codat_slots_take(codat_slots *t, uint64_t key, unsigned limit);
/* Gives back a slot taken with codat_slots_take. */
void codat_slots_give(codat_slots *t, uint64_t key);
/* How many slots key holds now. */
unsigned codat_slots_held(const codat_slots *t, uint64_t key);
void codat_slots_free(codat_slots *t);

/* ---- admission: the table under a lock, with a first-come-first-served wait list per company ----
 * A request that finds its company at the limit joins the company's wait list; the slot that the next
 * request of that company gives back goes to the oldest waiter (the count stays), whose wake function is
 * then called, so nobody polls. The wake runs on the giving thread with no lock held; it must not wait for
 * anything a scheduler's thread may hold (the GIL, say): writing to a pipe or curl_multi_wakeup is the idea. */
typedef void (*company_wake_fn)(void *ctx);
struct company_waiter {
    company_waiter *next;         /* in its company's wait list; under the lock */
    uint64_t key;
    int queued;                   /* in a wait list; under the lock */
    atomic_int granted;           /* a slot was handed to it (set under the lock, read by its owner) */
    company_wake_fn wake;
    void *wake_ctx;
    /* Counted up under the lock before a wake runs and down once it returned: the owner of wake_ctx waits
     * for 0 before freeing it, so a wake never reaches freed memory. */
    atomic_int *wakes_in_flight;
};

typedef struct {
    pthread_mutex_t lock;         /* held for a moment at each attempt's start and end */
    codat_slots table;
    unsigned limit;               /* requests in flight per company; fixed when the client is made */
} company_slots;

void company_slots_init(company_slots *s, unsigned limit);
void company_slots_destroy(company_slots *s);
/* 1: a slot is taken now; 0: the company is at its limit and w joined its wait list (it is woken once
 * granted: w->granted is then 1 and the slot is w's); -1: out of memory. */
int company_slot_take(company_slots *s, uint64_t key, company_waiter *w);
/* Gives back a slot: to the oldest waiter of the company when there is one (and wakes it), else to the
 * table. */
void company_slot_give(company_slots *s, uint64_t key);
/* A waiter that no longer wants a slot (its call was cancelled) leaves the wait list; if it was granted one
 * meanwhile, the slot passes on. Returns 1 when it had been granted (and passed the slot on), else 0. */
int company_slot_unwait(company_slots *s, company_waiter *w);
/* How many slots key holds now (for tests and logs). */
unsigned company_slots_held(company_slots *s, uint64_t key);

#endif
