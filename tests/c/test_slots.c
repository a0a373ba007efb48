/* test_slots.c: the per-company slot table (csrc/core/slots.c), against a plain array model, and admission:
 * the table under its lock with a first-come-first-served wait list per company. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include "slots.h"
#include "tinytest.h"

TT_TEST(key_is_never_zero_and_depends_on_every_byte)
{
    TT_CHECK(codat_company_key("") != 0);
    TT_CHECK(codat_company_key("acme") != codat_company_key("acmf"));
    TT_CHECK(codat_company_key("acme") != codat_company_key("acme "));
    TT_CHECK(codat_company_key("8a210b68-6988-11ed-a1eb-0242ac120002") ==
             codat_company_key("8a210b68-6988-11ed-a1eb-0242ac120002"));
}

TT_TEST(limit_is_per_company)
{
    codat_slots t = {0};
    uint64_t a = codat_company_key("a"), b = codat_company_key("b");
    for (int i = 0; i < 10; i++)
        TT_EQ_LONG(codat_slots_take(&t, a, 10), 1);
    TT_EQ_LONG(codat_slots_take(&t, a, 10), 0); /* the 11th waits */
    TT_EQ_LONG(codat_slots_held(&t, a), 10);
    TT_EQ_LONG(codat_slots_take(&t, b, 10), 1); /* another company is not held up */
    codat_slots_give(&t, a);
    TT_EQ_LONG(codat_slots_held(&t, a), 9);
    TT_EQ_LONG(codat_slots_take(&t, a, 10), 1);
    TT_EQ_LONG(codat_slots_take(&t, a, 10), 0);
    TT_EQ_LONG(codat_slots_take(&t, a, 0), 0); /* a limit of 0 never grants */
    codat_slots_free(&t);
}

TT_TEST(entries_go_away_at_zero)
{
    codat_slots t = {0};
    uint64_t a = codat_company_key("a");
    TT_EQ_LONG(codat_slots_take(&t, a, 10), 1);
    TT_EQ_LONG(t.used, 1);
    codat_slots_give(&t, a);
    TT_EQ_LONG(t.used, 0);
    TT_EQ_LONG(codat_slots_held(&t, a), 0);
    codat_slots_give(&t, a); /* giving back what is not held changes nothing */
    TT_EQ_LONG(t.used, 0);
    codat_slots_free(&t);
}

/* Keys chosen to collide in a small table exercise probing and the backward shift on removal. */
TT_TEST(colliding_keys_and_removal_in_the_middle_of_a_run)
{
    codat_slots t = {0};
    uint64_t keys[6] = {16 + 3, 32 + 3, 48 + 3, 64 + 4, 80 + 3, 96 + 5}; /* homes 3,3,3,4,3,5 at cap 16 */
    for (int i = 0; i < 6; i++)
        TT_EQ_LONG(codat_slots_take(&t, keys[i], 2), 1);
    TT_EQ_LONG(t.cap, 16);
    codat_slots_give(&t, keys[1]); /* a hole in the middle of the run starting at 3 */
    for (int i = 0; i < 6; i++)
        TT_EQ_LONG(codat_slots_held(&t, keys[i]), i == 1 ? 0 : 1);
    codat_slots_give(&t, keys[0]);
    for (int i = 2; i < 6; i++) {
        TT_EQ_LONG(codat_slots_held(&t, keys[i]), 1);
        TT_EQ_LONG(codat_slots_take(&t, keys[i], 2), 1);
        TT_EQ_LONG(codat_slots_take(&t, keys[i], 2), 0);
    }
    codat_slots_free(&t);
}

/* Random takes and gives over many companies, checked against a plain array of counts; the table grows
 * and shrinks through every size. */
TT_TEST(matches_a_model_under_random_use)
{
    enum { COMPANIES = 3000, STEPS = 400000, LIMIT = 3 };
    codat_slots t = {0};
    unsigned *model = calloc(COMPANIES, sizeof *model);
    uint64_t *keys = malloc(COMPANIES * sizeof *keys);
    TT_CHECK(model && keys);
    if (!model || !keys)
        return;
    char id[32];
    for (int i = 0; i < COMPANIES; i++) {
        snprintf(id, sizeof id, "company-%d", i);
        keys[i] = codat_company_key(id);
    }
    uint64_t s = 42;
    int mismatches = 0;
    size_t live = 0;
    for (long step = 0; step < STEPS; step++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int c = (int)(s % COMPANIES);
        int give = (s >> 20) % 2 == 0 && (step / 100000) % 2 == 1; /* alternate filling and draining phases */
        if ((s >> 33) % 3 == 0)
            give = !give;
        if (give) {
            codat_slots_give(&t, keys[c]);
            if (model[c]) {
                if (--model[c] == 0)
                    live--;
            }
        } else {
            int got = codat_slots_take(&t, keys[c], LIMIT);
            int want = model[c] < LIMIT;
            if (got != want)
                mismatches++;
            if (want && model[c]++ == 0)
                live++;
        }
        if (step % 997 == 0 && t.used != live)
            mismatches++;
    }
    for (int i = 0; i < COMPANIES; i++)
        if (codat_slots_held(&t, keys[i]) != model[i])
            mismatches++;
    TT_EQ_LONG(mismatches, 0);
    TT_EQ_LONG(t.used, live);
    codat_slots_free(&t);
    free(model);
    free(keys);
}

/* ---- admission: wait lists ---- */

typedef struct {
    int woken[16];
    int n;
} wake_log;

typedef struct {
    company_waiter w;
    wake_log *log;
    int id;
} test_waiter;

static void record_wake(void *ctx)
{
    test_waiter *t = ctx;
    t->log->woken[t->log->n++] = t->id;
}

static void waiter_init(test_waiter *t, wake_log *log, int id, atomic_int *in_flight)
{
    memset(t, 0, sizeof *t);
    t->log = log;
    t->id = id;
    t->w.wake = record_wake;
    t->w.wake_ctx = t;
    t->w.wakes_in_flight = in_flight;
}

TT_TEST(waiters_are_granted_in_arrival_order_on_give)
{
    company_slots s;
    company_slots_init(&s, 2);
    uint64_t a = codat_company_key("a");
    wake_log log = {{0}, 0};
    atomic_int in_flight;
    atomic_init(&in_flight, 0);
    test_waiter w[5];
    for (int i = 0; i < 5; i++)
        waiter_init(&w[i], &log, i, &in_flight);
    TT_EQ_LONG(company_slot_take(&s, a, &w[0].w), 1);
    TT_EQ_LONG(company_slot_take(&s, a, &w[1].w), 1);
    TT_EQ_LONG(company_slot_take(&s, a, &w[2].w), 0); /* at the limit: queued, not woken yet */
    TT_EQ_LONG(company_slot_take(&s, a, &w[3].w), 0);
    TT_EQ_LONG(company_slot_take(&s, a, &w[4].w), 0);
    TT_EQ_LONG(log.n, 0);
    TT_EQ_LONG(company_slots_held(&s, a), 2);
    company_slot_give(&s, a); /* the oldest waiter gets the slot, the count stays */
    TT_EQ_LONG(log.n, 1);
    TT_EQ_LONG(log.woken[0], 2);
    TT_EQ_LONG(atomic_load(&w[2].w.granted), 1);
    TT_EQ_LONG(atomic_load(&w[3].w.granted), 0);
    TT_EQ_LONG(company_slots_held(&s, a), 2);
    TT_EQ_LONG(atomic_load(&in_flight), 0); /* counted up for the wake, down after it */
    /* A newcomer does not overtake the ones still waiting. */
    test_waiter late;
    waiter_init(&late, &log, 9, &in_flight);
    TT_EQ_LONG(company_slot_take(&s, a, &late.w), 0);
    company_slot_give(&s, a);
    company_slot_give(&s, a);
    company_slot_give(&s, a);
    TT_EQ_LONG(log.n, 4);
    TT_EQ_LONG(log.woken[1], 3);
    TT_EQ_LONG(log.woken[2], 4);
    TT_EQ_LONG(log.woken[3], 9);
    company_slot_give(&s, a);
    company_slot_give(&s, a);
    TT_EQ_LONG(company_slots_held(&s, a), 0);
    TT_EQ_LONG(s.table.used, 0); /* the entry went away with the last slot */
    company_slots_destroy(&s);
}

TT_TEST(a_waiter_that_leaves_is_skipped_and_a_granted_one_passes_the_slot_on)
{
    company_slots s;
    company_slots_init(&s, 1);
    uint64_t a = codat_company_key("a"), b = codat_company_key("b");
    wake_log log = {{0}, 0};
    test_waiter w[4], other;
    for (int i = 0; i < 4; i++)
        waiter_init(&w[i], &log, i, NULL);
    waiter_init(&other, &log, 7, NULL);
    TT_EQ_LONG(company_slot_take(&s, a, &w[0].w), 1);
    TT_EQ_LONG(company_slot_take(&s, b, &other.w), 1); /* another company: its own slot, its own list */
    TT_EQ_LONG(company_slot_take(&s, a, &w[1].w), 0);
    TT_EQ_LONG(company_slot_take(&s, a, &w[2].w), 0);
    TT_EQ_LONG(company_slot_take(&s, a, &w[3].w), 0);
    TT_EQ_LONG(company_slot_unwait(&s, &w[2].w), 0); /* leaves from the middle: never granted */
    TT_EQ_LONG(company_slot_unwait(&s, &w[2].w), 0); /* twice changes nothing */
    TT_EQ_LONG(company_slot_unwait(&s, &w[3].w), 0); /* and from the end (the list's tail moves back) */
    test_waiter w4;
    waiter_init(&w4, &log, 4, NULL);
    TT_EQ_LONG(company_slot_take(&s, a, &w4.w), 0);
    company_slot_give(&s, a);
    TT_EQ_LONG(log.n, 1);
    TT_EQ_LONG(log.woken[0], 1);
    /* w[1] was granted but its call ends (cancelled) before it used the slot: the slot goes to w4. */
    TT_EQ_LONG(company_slot_unwait(&s, &w[1].w), 1);
    TT_EQ_LONG(log.n, 2);
    TT_EQ_LONG(log.woken[1], 4);
    TT_EQ_LONG(company_slots_held(&s, a), 1);
    company_slot_give(&s, a);
    TT_EQ_LONG(company_slots_held(&s, a), 0);
    TT_EQ_LONG(log.n, 2);
    company_slot_give(&s, b);
    TT_EQ_LONG(s.table.used, 0);
    company_slots_destroy(&s);
}

TT_TEST(wait_lists_survive_the_table_growing_and_shifting)
{
    /* Many companies at their limit, each with a waiter, force the table to grow and entries to move:
     * every wait list must move with its company. */
    company_slots s;
    company_slots_init(&s, 1);
    enum { N = 200 };
    static test_waiter holders[N], waiters[N];
    wake_log log = {{0}, 0};
    char id[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "company-%d", i);
        waiter_init(&holders[i], &log, 0, NULL);
        waiter_init(&waiters[i], &log, 0, NULL);
        waiters[i].w.wake = NULL; /* no wake function: the grant is still marked */
        TT_EQ_LONG(company_slot_take(&s, codat_company_key(id), &holders[i].w), 1);
        TT_EQ_LONG(company_slot_take(&s, codat_company_key(id), &waiters[i].w), 0);
    }
    for (int i = 0; i < N; i += 2) {
        snprintf(id, sizeof id, "company-%d", i);
        company_slot_give(&s, codat_company_key(id)); /* to the waiter */
        company_slot_give(&s, codat_company_key(id)); /* the waiter's, back to the table: entry removed */
    }
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "company-%d", i);
        TT_EQ_LONG(atomic_load(&waiters[i].w.granted), i % 2 == 0);
        TT_EQ_LONG(company_slots_held(&s, codat_company_key(id)), i % 2);
        if (i % 2) {
            company_slot_give(&s, codat_company_key(id));
            TT_EQ_LONG(atomic_load(&waiters[i].w.granted), 1);
        }
    }
    company_slots_destroy(&s);
}

/* Threads that each take a slot (waiting on a condition variable when queued), hold it a moment and give it
 * back: never more than the limit at once, and everyone gets through. */
typedef struct {
    company_slots *slots;
    uint64_t key;
    atomic_int *in_use, *max_seen, *in_flight;
} race_ctx;

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t cv;
    int woken;
} thread_wake;

static void wake_thread(void *ctx)
{
    thread_wake *t = ctx;
    pthread_mutex_lock(&t->m);
    t->woken = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->m);
}

static void *racer(void *arg)
{
    race_ctx *r = arg;
    for (int round = 0; round < 200; round++) {
        thread_wake tw = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
        company_waiter w;
        memset(&w, 0, sizeof w);
        w.wake = wake_thread;
        w.wake_ctx = &tw;
        w.wakes_in_flight = r->in_flight;
        if (company_slot_take(r->slots, r->key, &w) == 0) {
            pthread_mutex_lock(&tw.m);
            while (!tw.woken)
                pthread_cond_wait(&tw.cv, &tw.m);
            pthread_mutex_unlock(&tw.m);
        }
        int now = atomic_fetch_add(r->in_use, 1) + 1;
        int seen = atomic_load(r->max_seen);
        while (now > seen && !atomic_compare_exchange_weak(r->max_seen, &seen, now))
            ;
        sched_yield();
        atomic_fetch_sub(r->in_use, 1);
        company_slot_give(r->slots, r->key);
        while (atomic_load(r->in_flight) > 0) /* tw lives on this stack: no wake may still be reaching it */
            sched_yield();
    }
    return NULL;
}

TT_TEST(threads_never_pass_the_limit_and_all_get_through)
{
    company_slots s;
    company_slots_init(&s, 3);
    atomic_int in_use, max_seen, in_flight;
    atomic_init(&in_use, 0);
    atomic_init(&max_seen, 0);
    atomic_init(&in_flight, 0);
    race_ctx r = {&s, codat_company_key("busy"), &in_use, &max_seen, &in_flight};
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&th[i], NULL, racer, &r);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    TT_CHECK(atomic_load(&max_seen) <= 3);
    TT_CHECK(atomic_load(&max_seen) >= 1);
    TT_EQ_LONG(company_slots_held(&s, r.key), 0);
    TT_EQ_LONG(s.table.used, 0);
    company_slots_destroy(&s);
}

int main(void)
{
    TT_RUN(key_is_never_zero_and_depends_on_every_byte);
    TT_RUN(limit_is_per_company);
    TT_RUN(entries_go_away_at_zero);
    TT_RUN(colliding_keys_and_removal_in_the_middle_of_a_run);
    TT_RUN(matches_a_model_under_random_use);
    TT_RUN(waiters_are_granted_in_arrival_order_on_give);
    TT_RUN(a_waiter_that_leaves_is_skipped_and_a_granted_one_passes_the_slot_on);
    TT_RUN(wait_lists_survive_the_table_growing_and_shifting);
    TT_RUN(threads_never_pass_the_limit_and_all_get_through);
    return tt_summary();
}
