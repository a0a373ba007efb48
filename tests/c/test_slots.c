/* test_slots.c: the per-company slot table (csrc/core/slots.c), against a plain array model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
    TT_RUN(key_is_never_zero_and_depends_on_every_byte);
    TT_RUN(limit_is_per_company);
    TT_RUN(entries_go_away_at_zero);
    TT_RUN(colliding_keys_and_removal_in_the_middle_of_a_run);
    TT_RUN(matches_a_model_under_random_use);
    return tt_summary();
}
