/* tinytest.h: a minimal self-contained unit-test harness (no dependencies beyond libc).
 *
 *   TT_TEST(name) { TT_CHECK(expr); TT_EQ_LONG(a, b); TT_EQ_STR(a, b); ... }
 *   int main(void) { TT_RUN(name); ...; return tt_summary(); }
 *
 * Each TT_RUN prints "ok   name" or "FAIL name" (after the failing checks, one per line with file:line).
 * A failing check does not stop the test, so every broken expectation is reported. tt_summary() prints
 * "N passed, M failed" alone on a line (N and M count tests, not checks) and returns the exit code:
 * 0 when nothing failed, 1 otherwise.
 */
#ifndef TINYTEST_H
#define TINYTEST_H

#include <stdio.h>
#include <string.h>
#include <math.h>
#include <stdarg.h>

static int tt_passed, tt_failed, tt_cur_failed, tt_checks;
static const char *tt_cur_name = "";

static void tt_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void tt_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tt_cur_failed++;
    fprintf(stdout, "    %s:%d: %s: ", file, line, tt_cur_name);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

#define TT_TEST(name) static void name(void)

#define TT_RUN(name)                                                  \
    do {                                                              \
        tt_cur_name = #name;                                          \
        tt_cur_failed = 0;                                            \
        name();                                                       \
        if (tt_cur_failed) {                                          \
            tt_failed++;                                              \
            printf("FAIL %s\n", #name);                               \
        } else {                                                      \
            tt_passed++;                                              \
            printf("ok   %s\n", #name);                               \
        }                                                             \
        fflush(stdout);                                               \
    } while (0)

#define TT_CHECK(cond)                                                \
    do {                                                              \
        tt_checks++;                                                  \
        if (!(cond))                                                  \
            tt_fail_at(__FILE__, __LINE__, "check failed: %s", #cond); \
    } while (0)

#define TT_CHECK_MSG(cond, ...)                                       \
    do {                                                              \
        tt_checks++;                                                  \
        if (!(cond))                                                  \
            tt_fail_at(__FILE__, __LINE__, __VA_ARGS__);              \
    } while (0)

#define TT_EQ_LONG(a, b)                                              \
    do {                                                              \
        long tt_a_ = (long)(a), tt_b_ = (long)(b);                    \
        tt_checks++;                                                  \
        if (tt_a_ != tt_b_)                                           \
            tt_fail_at(__FILE__, __LINE__, "%s == %s: got %ld, want %ld", #a, #b, tt_a_, tt_b_); \
    } while (0)

#define TT_EQ_DBL(a, b)                                               \
    do {                                                              \
        double tt_a_ = (double)(a), tt_b_ = (double)(b);              \
        tt_checks++;                                                  \
        if (!(tt_a_ == tt_b_))                                        \
            tt_fail_at(__FILE__, __LINE__, "%s == %s: got %.17g, want %.17g", #a, #b, tt_a_, tt_b_); \
    } while (0)

#define TT_NEAR_DBL(a, b, tol)                                        \
    do {                                                              \
        double tt_a_ = (double)(a), tt_b_ = (double)(b);              \
        tt_checks++;                                                  \
        if (!(fabs(tt_a_ - tt_b_) <= (tol)))                          \
            tt_fail_at(__FILE__, __LINE__, "%s ~= %s: got %.17g, want %.17g (+-%g)", #a, #b, tt_a_, tt_b_, (double)(tol)); \
    } while (0)

/* Compares two C strings; NULL is a distinct value (and equal only to NULL). */
#define TT_EQ_STR(a, b)                                               \
    do {                                                              \
        const char *tt_a_ = (a), *tt_b_ = (b);                        \
        tt_checks++;                                                  \
        if (!tt_a_ || !tt_b_ ? tt_a_ != tt_b_ : strcmp(tt_a_, tt_b_) != 0) \
            tt_fail_at(__FILE__, __LINE__, "%s == %s: got \"%s\", want \"%s\"", #a, #b, \
                       tt_a_ ? tt_a_ : "(null)", tt_b_ ? tt_b_ : "(null)"); \
    } while (0)

static int tt_summary(void)
{
    printf("%d passed, %d failed\n", tt_passed, tt_failed);
    fflush(stdout);
    return tt_failed ? 1 : 0;
}

#endif
