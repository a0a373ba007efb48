/* slots.c: see slots.h. */
#include <stdlib.h>
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
    uint64_t *keys = calloc(cap, sizeof *keys);
    unsigned *counts = calloc(cap, sizeof *counts);
    if (!keys || !counts) {
        free(keys);
        free(counts);
        return -1;
    }
    codat_slots bigger = {keys, counts, cap, t->used};
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i])
            continue;
        size_t j = find(&bigger, t->keys[i]);
        keys[j] = t->keys[i];
        counts[j] = t->counts[i];
    }
    free(t->keys);
    free(t->counts);
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
    if (--t->counts[i] > 0)
        return;
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
        t->keys[j] = 0;
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
    t->keys = NULL;
    t->counts = NULL;
    t->cap = t->used = 0;
}
