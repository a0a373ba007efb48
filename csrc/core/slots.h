/* slots.h: per-company counts of requests in flight, so that a client never has more than Codat's limit
 * (10) running for one company, whichever mix of threads, batches and async calls asks. Pure: no locks
 * and no libcurl here; the client wraps every call in its own mutex. */
#ifndef CODAT_SLOTS_H
#define CODAT_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/* Open addressing on a 64-bit hash of the company id, with linear probing and backward-shift deletion
 * (no tombstones, so a long-lived client's table never fills with dead entries). Only companies with
 * requests in flight have an entry. Two ids whose hashes collide share one count: that can only make
 * the limit stricter, and with 64 bits it does not happen in practice. */
typedef struct {
    uint64_t *keys;   /* 0 = empty */
    unsigned *counts;
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

#endif
