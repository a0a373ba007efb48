/* fuzz_retry_after.c: libFuzzer target for codat_parse_retry_after (csrc/core/backoff.c).
 *
 * The input, as a NUL-terminated string (so up to its first NUL), is parsed against two clocks. The
 * result must be -1 or a finite number >= 0; a value made only of digits and surrounding blanks must parse
 * to that number (saturated at 1e9 seconds above that: a server asking for "forever" is not malformed).
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "backoff.h"

static void check(double r)
{
    if (isnan(r) || isinf(r))
        abort();
    if (!(r == -1 || r >= 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    double r = codat_parse_retry_after(s, 1700000000.0);
    check(r);
    check(codat_parse_retry_after(s, 0.0));
    check(codat_parse_retry_after(s, 1e12));

    /* delta-seconds cross-check */
    const char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *digits = p;
    double v = 0;
    int big = 0;
    while (isdigit((unsigned char)*p)) {
        v = v * 10 + (*p - '0');
        if (v > 1e9)
            big = 1;
        p++;
    }
    const char *after = p;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (after > digits && *p == '\0') {
        if (big ? r != 1e9 : r != v)
            abort();
    }
    free(s);
    return 0;
}
