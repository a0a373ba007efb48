/* test_backoff.c: codat_retry_defaults, codat_retry_add_status, codat_backoff_delay_ms,
 * codat_parse_retry_after (csrc/core/backoff.c). */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "backoff.h"
#include "tinytest.h"

/* ---- codat_retry_defaults ---- */

TT_TEST(retry_defaults_values)
{
    codat_retry_cfg cfg;
    memset(&cfg, 0xAB, sizeof cfg); /* defaults must not depend on what was there */
    codat_retry_defaults(&cfg);
    TT_EQ_LONG(cfg.enabled, 1);
    TT_EQ_LONG(cfg.initial_interval_ms, 500);
    TT_EQ_LONG(cfg.max_interval_ms, 60000);
    TT_EQ_DBL(cfg.exponent, 1.5);
    TT_EQ_LONG(cfg.max_elapsed_ms, 3600000);
    TT_EQ_LONG(cfg.retry_connection_errors, 1);
}

TT_TEST(retry_defaults_status_set)
{
    codat_retry_cfg cfg;
    memset(&cfg, 0xAB, sizeof cfg);
    codat_retry_defaults(&cfg);
    for (int s = 0; s < CODAT_MAX_STATUS; s++) {
        int want = s == 408 || s == 429 || (s >= 500 && s <= 599);
        TT_CHECK_MSG(!!cfg.retry_status[s] == want, "status %d: retried=%d, want %d", s,
                     cfg.retry_status[s], want);
    }
    TT_CHECK(!cfg.retry_status[404]);
    TT_CHECK(!cfg.retry_status[400]);
    TT_CHECK(!cfg.retry_status[200]);
    TT_CHECK(cfg.retry_status[408] && cfg.retry_status[429] && cfg.retry_status[500] && cfg.retry_status[503] &&
             cfg.retry_status[599]);
}

/* ---- codat_retry_add_status ---- */

static void clear_cfg(codat_retry_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

static int count_set(const codat_retry_cfg *cfg)
{
    int n = 0;
    for (int s = 0; s < CODAT_MAX_STATUS; s++)
        n += !!cfg->retry_status[s];
    return n;
}

TT_TEST(retry_add_status_valid_patterns)
{
    codat_retry_cfg cfg;

    clear_cfg(&cfg);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "5XX"), 0);
    TT_EQ_LONG(count_set(&cfg), 100);
    TT_CHECK(cfg.retry_status[500] && cfg.retry_status[599] && !cfg.retry_status[499]);

    clear_cfg(&cfg);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "4xx"), 0);
    TT_EQ_LONG(count_set(&cfg), 100);
    TT_CHECK(cfg.retry_status[400] && cfg.retry_status[499] && !cfg.retry_status[500] && !cfg.retry_status[399]);

    clear_cfg(&cfg);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "429"), 0);
    TT_EQ_LONG(count_set(&cfg), 1);
    TT_CHECK(cfg.retry_status[429]);

    clear_cfg(&cfg);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "1XX"), 0);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "100"), 0);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "599"), 0);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "3xX"), 0);
    TT_EQ_LONG(count_set(&cfg), 201);
    TT_CHECK(cfg.retry_status[100] && cfg.retry_status[199] && cfg.retry_status[599] && cfg.retry_status[300]);

    /* adding is idempotent and cumulative */
    clear_cfg(&cfg);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "429"), 0);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "429"), 0);
    TT_EQ_LONG(codat_retry_add_status(&cfg, "408"), 0);
    TT_EQ_LONG(count_set(&cfg), 2);
}

TT_TEST(retry_add_status_invalid_patterns)
{
    const char *bad[] = {"6XX", "6xx", "0XX", "9XX", "abc", "42", "4290", "", "X", "XX", "XXX", "4X9", "4 9",
                         "-12", " 42", "42 ", "+42", "600", "099", "000", "5XXX", "5X", "4\xC3\xA9", "5YY",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        codat_retry_cfg cfg, before;
        codat_retry_defaults(&cfg);
        memcpy(&before, &cfg, sizeof cfg);
        TT_CHECK_MSG(codat_retry_add_status(&cfg, bad[i]) == -1, "pattern \"%s\" should be refused", bad[i]);
        TT_CHECK_MSG(memcmp(&before, &cfg, sizeof cfg) == 0, "pattern \"%s\" changed the config", bad[i]);
    }
}

/* ---- codat_backoff_delay_ms ---- */

static const double ALMOST_ONE = 0.99999999999999989; /* nextafter(1, 0): the largest jitter in [0, 1) */

TT_TEST(backoff_interval_sequence)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    /* interval = min(500 * 1.5^retry, 60000); jitter 1 (clamped) gives the interval itself. */
    const long want[] = {500, 750, 1125, 1687, 2531, 3796, 5695, 8542, 12814, 19221, 28832, 43248, 60000,
                         60000, 60000};
    for (int r = 0; r < (int)(sizeof want / sizeof want[0]); r++) {
        long got = codat_backoff_delay_ms(&cfg, r, 1.0);
        TT_CHECK_MSG(got == want[r], "retry %d: got %ld, want %ld", r, got, want[r]);
    }
}

TT_TEST(backoff_jitter_zero_is_half_interval)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    const long want[] = {250, 375, 562, 843, 1265, 1898, 2847, 4271, 6407, 9610, 14416, 21624, 30000, 30000};
    for (int r = 0; r < (int)(sizeof want / sizeof want[0]); r++) {
        long got = codat_backoff_delay_ms(&cfg, r, 0.0);
        TT_CHECK_MSG(got == want[r], "retry %d: got %ld, want %ld", r, got, want[r]);
    }
}

TT_TEST(backoff_jitter_near_one_is_about_interval)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    for (int r = 0; r < 20; r++) {
        double interval = fmin(500.0 * pow(1.5, r), 60000.0);
        long got = codat_backoff_delay_ms(&cfg, r, ALMOST_ONE);
        TT_CHECK_MSG(got <= (long)interval && got >= (long)interval - 1, "retry %d: got %ld, interval %.3f", r,
                     got, interval);
    }
}

TT_TEST(backoff_delay_within_half_open_range_and_monotonic_in_jitter)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    for (int r = 0; r < 16; r++) {
        double interval = fmin(500.0 * pow(1.5, r), 60000.0);
        long prev = -1;
        for (int k = 0; k < 1000; k++) {
            double jitter = k / 1000.0;
            long got = codat_backoff_delay_ms(&cfg, r, jitter);
            TT_CHECK_MSG(got >= (long)(interval / 2) && (double)got < interval,
                         "retry %d jitter %g: %ld not in [%g, %g)", r, jitter, got, interval / 2, interval);
            TT_CHECK_MSG(got >= prev, "retry %d: not monotonic at jitter %g", r, jitter);
            prev = got;
        }
    }
}

TT_TEST(backoff_jitter_out_of_range_is_clamped)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 0, -5.0), 250);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 0, -0.0), 250);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 0, 7.0), 500);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 0, INFINITY), 500);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 0, -INFINITY), 250);
}

TT_TEST(backoff_huge_retry_numbers_cap)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);
    const int retries[] = {13, 14, 50, 100, 1000, 1774, 1775, 10000, 1 << 20, INT_MAX};
    for (size_t i = 0; i < sizeof retries / sizeof retries[0]; i++) {
        TT_EQ_LONG(codat_backoff_delay_ms(&cfg, retries[i], 0.0), 30000);
        TT_EQ_LONG(codat_backoff_delay_ms(&cfg, retries[i], 0.5), 45000);
        TT_EQ_LONG(codat_backoff_delay_ms(&cfg, retries[i], 1.0), 60000);
        long hi = codat_backoff_delay_ms(&cfg, retries[i], ALMOST_ONE);
        TT_CHECK(hi >= 59999 && hi <= 60000);
    }
}

TT_TEST(backoff_other_configs_no_overflow_or_nan)
{
    codat_retry_cfg cfg;
    codat_retry_defaults(&cfg);

    cfg.initial_interval_ms = 1000;
    cfg.exponent = 2.0;
    cfg.max_interval_ms = 5000;
    const long want[] = {1000, 2000, 4000, 5000, 5000};
    for (int r = 0; r < 5; r++)
        TT_EQ_LONG(codat_backoff_delay_ms(&cfg, r, 1.0), want[r]);

    cfg.exponent = 1.0; /* constant */
    for (int r = 0; r < 100; r += 7)
        TT_EQ_LONG(codat_backoff_delay_ms(&cfg, r, 0.0), 500);

    cfg.exponent = 1e308; /* inf after one step */
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 3, 0.0), 2500);
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, INT_MAX, 1.0), 5000);

    cfg.exponent = 1.5;
    cfg.initial_interval_ms = 0;
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 10, 0.5), 0);
    cfg.initial_interval_ms = 500;
    cfg.max_interval_ms = 0;
    TT_EQ_LONG(codat_backoff_delay_ms(&cfg, 10, 0.5), 0);

    /* The binding lets max_interval_ms be any long >= 0: the result must stay non-negative. */
    cfg.initial_interval_ms = LONG_MAX;
    cfg.max_interval_ms = LONG_MAX;
    for (int r = 0; r < 3; r++) {
        long lo = codat_backoff_delay_ms(&cfg, r, 0.0);
        long hi = codat_backoff_delay_ms(&cfg, r, ALMOST_ONE);
        TT_CHECK_MSG(lo > 0 && hi >= lo, "retry %d: lo %ld hi %ld", r, lo, hi);
    }
    cfg.initial_interval_ms = 500;
    cfg.max_interval_ms = LONG_MAX;
    long d = codat_backoff_delay_ms(&cfg, INT_MAX, 0.5);
    TT_CHECK_MSG(d > 0, "huge max_interval: %ld", d);
}

/* ---- codat_parse_retry_after ---- */

#define NOW 1700000000.0 /* Tue, 14 Nov 2023 22:13:20 GMT */

#define RA_EQ(value, want) \
    TT_CHECK_MSG(codat_parse_retry_after((value), NOW) == (want), "Retry-After \"%s\": got %.17g, want %g", \
                 (value) ? (const char *)(value) : "(null)", codat_parse_retry_after((value), NOW), (double)(want))

TT_TEST(retry_after_delta_seconds)
{
    RA_EQ("0", 0);
    RA_EQ("120", 120);
    RA_EQ(" 5 ", 5);
    RA_EQ("\t7\t", 7);
    RA_EQ("5\r\n", 5);
    RA_EQ("007", 7);
    RA_EQ("3600", 3600);
    RA_EQ("1000000000", 1e9);
}

TT_TEST(retry_after_malformed_numbers)
{
    RA_EQ("1.5", -1);
    RA_EQ("0x10", -1);
    RA_EQ("-3", -1);
    RA_EQ("+3", -1);
    RA_EQ("1e3", -1);
    RA_EQ("5 6", -1);
    RA_EQ("12abc", -1);
    RA_EQ("", -1);
    RA_EQ("   ", -1);
    RA_EQ(NULL, -1);
    RA_EQ("99999999999x", -1);
}

/* A wait longer than any budget saturates at 1e9 s instead of being ignored, so that the engine stops
 * at once rather than retrying at the normal pace. */
TT_TEST(retry_after_huge_numbers_saturate)
{
    RA_EQ("1000000001", 1e9);
    RA_EQ("99999999999", 1e9);
    RA_EQ("99999999999999999999999999999999999999999999999999999999999999999999999999999999", 1e9);
}

TT_TEST(retry_after_huge_digit_string)
{
    char *s = malloc(100001);
    TT_CHECK(s != NULL);
    if (!s)
        return;
    memset(s, '9', 100000);
    s[100000] = '\0';
    TT_EQ_DBL(codat_parse_retry_after(s, NOW), 1e9);
    free(s);
}

TT_TEST(retry_after_http_date_future)
{
    RA_EQ("Tue, 14 Nov 2023 22:15:20 GMT", 120);        /* IMF-fixdate */
    RA_EQ("Tuesday, 14-Nov-23 22:15:20 GMT", 120);      /* obsolete RFC 850 */
    RA_EQ("Tue Nov 14 22:15:20 2023", 120);             /* asctime */
    RA_EQ("  Tue, 14 Nov 2023 22:15:20 GMT  ", 120);
    RA_EQ("Wed, 15 Nov 2023 22:13:20 GMT", 86400);
    TT_EQ_DBL(codat_parse_retry_after("Tue, 14 Nov 2023 22:15:20 GMT", NOW + 0.5), 119.5);
}

TT_TEST(retry_after_http_date_past_or_now_is_zero)
{
    RA_EQ("Tue, 14 Nov 2023 22:13:20 GMT", 0);
    RA_EQ("Tue, 14 Nov 2023 22:13:19 GMT", 0);
    RA_EQ("Sun, 06 Nov 1994 08:49:37 GMT", 0);
    RA_EQ("Thu, 01 Jan 1970 00:00:00 GMT", 0);
}

TT_TEST(retry_after_garbage)
{
    RA_EQ("abc", -1);
    RA_EQ("soon", -1);
    RA_EQ("tomorrow", -1);
    RA_EQ("GMT", -1);
    RA_EQ("Mon", -1);
    RA_EQ("Sun, 06 Nov", -1);
    RA_EQ("Tue, 32 Nov 2023 22:15:20 GMT", -1);
    RA_EQ("Tue, 14 Foo 2023 22:15:20 GMT", -1);
    RA_EQ("Tue, 14 Nov 2023 25:15:20 GMT", -1);
    RA_EQ("\x01\x02\x03", -1);
}

int main(void)
{
    TT_RUN(retry_defaults_values);
    TT_RUN(retry_defaults_status_set);
    TT_RUN(retry_add_status_valid_patterns);
    TT_RUN(retry_add_status_invalid_patterns);
    TT_RUN(backoff_interval_sequence);
    TT_RUN(backoff_jitter_zero_is_half_interval);
    TT_RUN(backoff_jitter_near_one_is_about_interval);
    TT_RUN(backoff_delay_within_half_open_range_and_monotonic_in_jitter);
    TT_RUN(backoff_jitter_out_of_range_is_clamped);
    TT_RUN(backoff_huge_retry_numbers_cap);
    TT_RUN(backoff_other_configs_no_overflow_or_nan);
    TT_RUN(retry_after_delta_seconds);
    TT_RUN(retry_after_malformed_numbers);
    TT_RUN(retry_after_huge_numbers_saturate);
    TT_RUN(retry_after_huge_digit_string);
    TT_RUN(retry_after_http_date_future);
    TT_RUN(retry_after_http_date_past_or_now_is_zero);
    TT_RUN(retry_after_garbage);
    return tt_summary();
}
