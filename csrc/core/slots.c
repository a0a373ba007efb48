/* slots.c: see slots.h. The table first (pure), then admission (the table under a lock, with wait lists). */
#include <stdlib.h>
#include <string.h>
#include "slots.h"

uint64_t codat_company_key(const char *company_id)
{
    /* FNV-1a, then a final mix (splitmix64's) so that similar ids spread over the table. */
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)company_id; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h ? h : 1;
}

static size_t find(const codat_slots *t, uint64_t key)
{
    size_t mask = t->cap - 1, i = (size_t)key & mask;
    while (t->keys[i] && t->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

static int grow(codat_slots *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    codat_slots bigger = {calloc(cap, sizeof(uint64_t)), calloc(cap, sizeof(unsigned)),
                          calloc(cap, sizeof(company_waiter *)), calloc(cap, sizeof(company_waiter *)), cap,
                          t->used};
    if (!bigger.keys || !bigger.counts || !bigger.first || !bigger.last) {
        codat_slots_free(&bigger);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = find(&bigger, t->keys[i]);
        bigger.keys[j] = t->keys[i];
        bigger.counts[j] = t->counts[i];
        bigger.first[j] = t->first[i];
        bigger.last[j] = t->last[i];
    }
    codat_slots_free(t);
    *t = bigger;
    return 0;
}

int codat_slots_take(codat_slots *t, uint64_t key, unsigned limit)
{
    if (t->cap) {
        size_t i = find(t, key);
        if (t->keys[i]) {
            if (t->counts[i] >= limit)
                return 0;
            t->counts[i]++;
            return 1;
        }
    }
    if (limit == 0)
        return 0;
    if ((t->used + 1) * 2 > t->cap && grow(t) != 0) /* keep the table at most half full */
        return -1;
    size_t i = find(t, key);
    t->keys[i] = key;
    t->counts[i] = 1;
    t->used++;
    return 1;
}

void codat_slots_give(codat_slots *t, uint64_t key)
{
    if (!t->cap)
        return;
    size_t mask = t->cap - 1, i = find(t, key);
    if (!t->keys[i])
        return; /* not held: nothing to give back */
    if (--t->counts[i] > 0 || t->first[i])
        return; /* the entry stays while a slot is held or a request waits */
    /* Remove the entry, then shift back any later entry of the same probe run that would otherwise be
     * cut off from its home slot by the hole. */
    t->keys[i] = 0;
    t->used--;
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->keys[j])
            break;
        size_t home = (size_t)t->keys[j] & mask;
        /* The entry at j may move into the hole at i unless its home lies cyclically in (i, j]. */
        int home_after_hole = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (home_after_hole)
            continue;
        t->keys[i] = t->keys[j];
        t->counts[i] = t->counts[j];
        t->first[i] = t->first[j];
        t->last[i] = t->last[j];
        t->keys[j] = 0;
        t->first[j] = t->last[j] = NULL;
        i = j;
    }
}

unsigned codat_slots_held(const codat_slots *t, uint64_t key)
{
    if (!t->cap)
        return 0;
    size_t i = find(t, key);
    return t->keys[i] ? t->counts[i] : 0;
}

void codat_slots_free(codat_slots *t)
{
    free(t->keys);
    free(t->counts);
    free(t->first);
    free(t->last);
    t->keys = NULL;
    t->counts = NULL;
    t->first = t->last = NULL;
    t->cap = t->used = 0;
}

/* ---- admission ---- */

void company_slots_init(company_slots *s, unsigned limit)
{
    memset(&s->table, 0, sizeof s->table);
    pthread_mutex_init(&s->lock, NULL);
    s->limit = limit;
}

void company_slots_destroy(company_slots *s)
{
    pthread_mutex_destroy(&s->lock);
    codat_slots_free(&s->table);
}

/* The table's index for key, or (size_t)-1 when it has no entry. */
static size_t entry_of(const codat_slots *t, uint64_t key)
{
    if (!t->cap)
        return (size_t)-1;
    size_t i = find(t, key);
    return t->keys[i] ? i : (size_t)-1;
}

int company_slot_take(company_slots *s, uint64_t key, company_waiter *w)
{
    pthread_mutex_lock(&s->lock);
    int got = codat_slots_take(&s->table, key, s->limit);
    size_t i = got == 0 ? entry_of(&s->table, key) : (size_t)-1;
    if (got == 0 && i == (size_t)-1)
        got = -1; /* a limit of 0: no entry to queue on, and nothing would ever wake the waiter */
    if (got == 0) {
        w->next = NULL;
        w->key = key;
        w->queued = 1;
        atomic_store(&w->granted, 0);
        if (s->table.last[i])
            s->table.last[i]->next = w;
        else
            s->table.first[i] = w;
        s->table.last[i] = w;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

/* Under the lock: hands key's slot to its oldest waiter, if any. Returns that waiter (its wake still to
 * run, counted in its wakes_in_flight), or NULL when nobody waited and the slot went back to the table. */
static company_waiter *pass_slot_locked(company_slots *s, uint64_t key)
{
    size_t i = entry_of(&s->table, key);
    company_waiter *w = i == (size_t)-1 ? NULL : s->table.first[i];
    if (!w) {
        codat_slots_give(&s->table, key);
        return NULL;
    }
    s->table.first[i] = w->next;
    if (!w->next)
        s->table.last[i] = NULL;
    w->next = NULL;
    w->queued = 0;
    atomic_store(&w->granted, 1);
    if (w->wakes_in_flight)
        atomic_fetch_add(w->wakes_in_flight, 1);
    return w;
}

/* Outside the lock: runs the wake of a waiter pass_slot_locked chose. From here on w itself may be gone
 * (its owner saw the grant); only what was copied is used. */
static void wake_waiter(company_wake_fn wake, void *ctx, atomic_int *in_flight)
{
    if (wake)
        wake(ctx);
    if (in_flight)
        atomic_fetch_sub(in_flight, 1);
}

static void give_and_wake(company_slots *s, uint64_t key, int locked)
{
    if (!locked)
        pthread_mutex_lock(&s->lock);
    company_waiter *w = pass_slot_locked(s, key);
    company_wake_fn wake = w ? w->wake : NULL;
    void *ctx = w ? w->wake_ctx : NULL;
    atomic_int *in_flight = w ? w->wakes_in_flight : NULL;
    pthread_mutex_unlock(&s->lock);
    if (w)
        wake_waiter(wake, ctx, in_flight);
}

void company_slot_give(company_slots *s, uint64_t key)
{
    give_and_wake(s, key, 0);
}

int company_slot_unwait(company_slots *s, company_waiter *w)
{
    pthread_mutex_lock(&s->lock);
    if (w->queued) {
        size_t i = entry_of(&s->table, w->key);
        company_waiter **link = i == (size_t)-1 ? NULL : &s->table.first[i];
        company_waiter *prev = NULL;
        while (link && *link && *link != w) {
            prev = *link;
            link = &(*link)->next;
        }
        if (link && *link) {
            *link = w->next;
            if (s->table.last[i] == w)
                s->table.last[i] = prev;
        }
        w->queued = 0;
        w->next = NULL;
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    if (!atomic_load(&w->granted)) {
        pthread_mutex_unlock(&s->lock);
        return 0;
    }
    atomic_store(&w->granted, 0);
    give_and_wake(s, w->key, 1); /* unlocks */
    return 1;
}

unsigned company_slots_held(company_slots *s, uint64_t key)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = codat_slots_held(&s->table, key);
    pthread_mutex_unlock(&s->lock);
    return n;
}
