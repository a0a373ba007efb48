/* backoff.h: the retry schedule and Retry-After (backoff.c; the policy itself, codat_retry_cfg, is in
 * codat.h). Pure; tests/c/test_backoff.c, fuzz/fuzz_retry_after.c. */
#ifndef CODAT_BACKOFF_H
#define CODAT_BACKOFF_H

#include <stddef.h>
#include "codat.h"

/* Backoff before retry number `retry` (0 for the first retry), in ms, as codat-platform 6 computes it:
 * interval = min(initial * exponent^retry, max_interval), then a delay drawn in [interval/2, interval)
 * by jitter in [0, 1). */
long codat_backoff_delay_ms(const codat_retry_cfg *cfg, int retry, double jitter);
/* Parses a Retry-After value: delta seconds or an HTTP date (relative to now_s, Unix seconds).
 * Returns seconds >= 0, or -1 when absent or malformed. */
double codat_parse_retry_after(const char *value, double now_s);

#endif
