/* test_redact.c: the secrets an Authorization gives away, and finding them however they are escaped
 * (csrc/core/redact.c). Every buffer is freed, so valgrind sees no leak. */
#include <stdlib.h>
#include <string.h>
#include "redact.h"
#include "tinytest.h"

/* base64("sk_live_>>?é-Rx"): '+', '/' and '=' all appear */
#define KEY "sk_live_>>?\xc3\xa9-Rx"
#define CRED "c2tfbGl2ZV8+Pj/DqS1SeA=="
#define AUTH "Basic " CRED

static int has(const codat_secrets *s, const char *want, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->lens[i] == len && memcmp(s->items[i], want, len) == 0)
            return 1;
    return 0;
}
#define HAS(s, lit) has((s), (lit), sizeof(lit) - 1)

TT_TEST(authorization_gives_away_its_forms)
{
    codat_secrets s;
    codat_secrets_init(&s);
    TT_EQ_LONG(codat_secrets_add_authorization(&s, "  " AUTH " ", strlen("  " AUTH " ")), 0);
    TT_CHECK(HAS(&s, AUTH));
    TT_CHECK(HAS(&s, CRED));
    TT_CHECK(HAS(&s, "c2tfbGl2ZV8+Pj/DqS1SeA"));   /* unpadded */
    TT_CHECK(HAS(&s, "c2tfbGl2ZV8-Pj_DqS1SeA"));   /* URL-safe */
    TT_CHECK(HAS(&s, KEY));                        /* the key itself */
    TT_CHECK(HAS(&s, "sk_live_>>?\xe9-Rx"));       /* and its Latin-1 spelling */
    codat_secrets_free(&s);
    TT_EQ_LONG(s.n, 0);

    /* user:password: the password alone too; Bearer: the token; short derived forms are not kept */
    codat_secrets_init(&s);
    codat_secrets_add_authorization(&s, "Basic dXNlcjpwYXNzd29yZDE=", 26); /* user:password1 */
    TT_CHECK(HAS(&s, "user:password1"));
    TT_CHECK(HAS(&s, "password1"));
    codat_secrets_add_authorization(&s, "Bearer eyJhbGciOi.x.y", 21);
    TT_CHECK(HAS(&s, "eyJhbGciOi.x.y"));
    codat_secrets_add_authorization(&s, "Basic YWI=", 10); /* "ab": too short to look for alone */
    TT_CHECK(HAS(&s, "Basic YWI="));
    TT_CHECK(!HAS(&s, "ab") && !HAS(&s, "YWI="));
    size_t n = s.n;
    codat_secrets_add_authorization(&s, "Basic YWI=", 10); /* no duplicates */
    TT_EQ_LONG(s.n, n);
    codat_secrets_add(&s, "abc", 3);                     /* under 4 bytes: ignored */
    TT_EQ_LONG(s.n, n);
    codat_secrets_free(&s);
}

static void expect_find(const char *file, int line, const char *text, const char *secret, long want_at,
                        long want_len)
{
    size_t m = 0;
    size_t at = codat_find_secret(text, strlen(text), secret, strlen(secret), &m);
    tt_checks++;
    if ((long)at != want_at || (want_at >= 0 && (long)m != want_len))
        tt_fail_at(file, line, "find(\"%s\", \"%s\"): got %ld+%zu, want %ld+%ld", text, secret, (long)at, m,
                   want_at, want_len);
}
#define FIND(text, secret, at, len) expect_find(__FILE__, __LINE__, (text), (secret), (at), (len))

TT_TEST(find_reads_every_escape)
{
    FIND("x a+b/c=d y", "a+b/c=d", 2, 7);
    FIND("x a\\u002Bb\\/c\\u003dd y", "a+b/c=d", 2, 18);            /* JSON, either case */
    FIND("\\u0061\\u002b\\u0062\\u002F\\u0063\\u003D\\u0064", "a+b/c=d", 0, 42);
    FIND("a%2Bb%2fc%3Dd", "a+b/c=d", 0, 13);                        /* URL */
    FIND("a&#43;b&#x2F;c&equals;d", "a+b/c=d", 0, 23);              /* HTML */
    FIND("a&plus;b&sol;c=d", "a+b/c=d", 0, 16);
    FIND("\\u00e9t\\u00C9", "\xc3\xa9t\xc3\x89", 0, 13);           /* non-ASCII as \u */
    FIND("\\ud83d\\ude00!", "\xf0\x9f\x98\x80!", 0, 13);           /* a surrogate pair */
    FIND("%C3%A9t", "\xc3\xa9t", 0, 7);                            /* UTF-8 bytes percent-encoded */
    FIND("q\\\"x\\\\y", "\"x\\y", 1, 6);                           /* \" and \\ */
    FIND("a\\nb", "a\nb", 0, 4);
    /* a literal secret that itself looks like an escape is still found */
    FIND("key %41%41 end", "%41%41", 4, 6);
    FIND("key \\u0041 end", "\\u0041", 4, 6);
    /* no match */
    FIND("a+b/c=", "a+b/c=d", -1, 0);
    FIND("a\\u002Cb/c=d", "a+b/c=d", -1, 0);
    FIND("a\\u002", "a+b", -1, 0);
    FIND("", "abcd", -1, 0);
    FIND("a%2", "a+", -1, 0);
    FIND("a&#43", "a+", -1, 0);
    FIND("a&#99999999999;", "a+", -1, 0);
}

static char *dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    if (p)
        strcpy(p, s);
    return p;
}

static void expect_redact(const char *file, int line, const codat_secrets *s, const char *in, const char *want,
                          long want_count)
{
    char *text = dup(in);
    size_t len = strlen(in);
    if (!text)
        return;
    size_t n = codat_redact(&text, &len, s);
    tt_checks++;
    if (strcmp(text, want) != 0 || len != strlen(want) || (long)n != want_count)
        tt_fail_at(file, line, "redact(\"%s\"): got \"%s\" (%zu), want \"%s\" (%ld)", in, text, n, want, want_count);
    free(text);
}
#define REDACT(s, in, want, count) expect_redact(__FILE__, __LINE__, (s), (in), (want), (count))

TT_TEST(redact_replaces_every_spelling)
{
    codat_secrets s;
    codat_secrets_init(&s);
    codat_secrets_add_authorization(&s, AUTH, strlen(AUTH));
    REDACT(&s, "{\"e\":\"Basic c2tfbGl2ZV8\\u002BPj\\/DqS1SeA\\u003D\\u003D\"}", "{\"e\":\"[REDACTED]\"}", 1);
    REDACT(&s, "API key sk_live_>>?\\u00e9-Rx is revoked", "API key [REDACTED] is revoked", 1);
    REDACT(&s, "API key sk_live_%3E%3E%3F%C3%A9-Rx", "API key [REDACTED]", 1);
    REDACT(&s, "API key sk_live_&gt;&gt;?\xe9-Rx", "API key [REDACTED]", 1);
    REDACT(&s, AUTH " and " CRED " and " KEY, "[REDACTED] and [REDACTED] and [REDACTED]", 3);
    REDACT(&s, "nothing here", "nothing here", 0);
    REDACT(&s, "", "", 0);
    /* adjacent and overlapping candidates */
    REDACT(&s, KEY KEY, "[REDACTED][REDACTED]", 2);
    codat_secrets_free(&s);

    /* a text that grows: many short matches */
    codat_secrets_init(&s);
    codat_secrets_add(&s, "abcd", 4);
    REDACT(&s, "abcdabcdabcdabcd", "[REDACTED][REDACTED][REDACTED][REDACTED]", 4);
    REDACT(&s, "\\u0061bcd%61bcd", "[REDACTED][REDACTED]", 2);
    codat_secrets_free(&s);
}

TT_TEST(redact_json_reaches_every_string)
{
    codat_secrets s;
    codat_secrets_init(&s);
    codat_secrets_add_authorization(&s, AUTH, strlen(AUTH));
    /* keys, values, nested arrays and objects, and a doubly escaped echo that only the parser resolves */
    const char *doc = "{\"sk_live_>>?\\u00e9-Rx\": 1, \"a\": [\"x " CRED "\", {\"b\": \"Basic c2tfbGl2ZV8\\\\u002BPj/DqS1SeA==\"}],"
                      " \"n\": 5, \"s\": \"plain\"}";
    cJSON *json = cJSON_Parse(doc);
    TT_CHECK(json != NULL);
    if (!json)
        return;
    TT_EQ_LONG(codat_redact_json(json, &s), 3);
    char *out = cJSON_PrintUnformatted(json);
    TT_EQ_STR(out, "{\"[REDACTED]\":1,\"a\":[\"x [REDACTED]\",{\"b\":\"[REDACTED]\"}],\"n\":5,\"s\":\"plain\"}");
    cJSON_free(out);
    cJSON_Delete(json);
    TT_EQ_LONG(codat_redact_json(NULL, &s), 0);
    codat_secrets_free(&s);
}

TT_TEST(holds_secret)
{
    codat_secrets s;
    codat_secrets_init(&s);
    TT_CHECK(!codat_holds_secret("anything", 8, &s)); /* no secrets: nothing to find */
    codat_secrets_add_authorization(&s, AUTH, strlen(AUTH));
    TT_CHECK(codat_holds_secret("x" CRED, strlen("x" CRED), &s));
    TT_CHECK(codat_holds_secret("c2tfbGl2ZV8%2BPj%2FDqS1SeA", 26, &s));
    TT_CHECK(!codat_holds_secret("c2tfbGl2ZV8", 11, &s));
    codat_secrets_free(&s);
}

static void expect_cut(const char *file, int line, const codat_secrets *s, const char *in, const char *want)
{
    char *text = dup(in);
    size_t len = strlen(in);
    if (!text)
        return;
    size_t cut = codat_redact_cut_tail(&text, &len, s);
    tt_checks++;
    if (strcmp(text, want) != 0 || len != strlen(want) || (cut != 0) != (strcmp(in, want) != 0))
        tt_fail_at(file, line, "cut_tail(\"%s\"): got \"%s\", want \"%s\"", in, text, want);
    free(text);
}
#define CUT(s, in, want) expect_cut(__FILE__, __LINE__, (s), (in), (want))

TT_TEST(cut_tail_hides_a_secret_cut_short)
{
    codat_secrets s;
    codat_secrets_init(&s);
    codat_secrets_add_authorization(&s, AUTH, strlen(AUTH));
    CUT(&s, "body ... Basic c2tfbGl2", "body ... [REDACTED]");                /* cut inside the header */
    CUT(&s, "body ... c2tfbGl2ZV8\\u00", "body ... [REDACTED]");             /* inside an escape, too */
    CUT(&s, "body ... c2tfbGl2ZV8%2", "body ... [REDACTED]");
    CUT(&s, "body ... sk_live_>", "body ... [REDACTED]");                     /* the decoded key */
    CUT(&s, "body ... c2t", "body ... c2t");                                   /* under 4 bytes: kept */
    CUT(&s, "body ... Basic", "body ... [REDACTED]");  /* the start of the header: it may go on to the secret */
    CUT(&s, "body ... Bas", "body ... Bas");
    CUT(&s, "c2tfbGl2 and more", "c2tfbGl2 and more");                         /* not at the end */
    CUT(&s, "", "");
    codat_secrets_free(&s);
}

TT_TEST(proxy_userinfo_gives_away_its_forms)
{
    codat_secrets s;
    codat_secrets_init(&s);
    /* "agent:pr0xy+pass/word", percent-encoded in the URL */
    TT_EQ_LONG(codat_secrets_add_url_userinfo(&s, "http://agent:pr0xy%2Bpass%2Fword@proxy:3128/x@y"), 0);
    TT_CHECK(HAS(&s, "agent:pr0xy+pass/word"));
    TT_CHECK(HAS(&s, "pr0xy+pass/word"));
    TT_CHECK(HAS(&s, "Basic YWdlbnQ6cHIweHkrcGFzcy93b3Jk"));
    size_t n = s.n;
    TT_EQ_LONG(codat_secrets_add_url_userinfo(&s, "http://proxy:3128/a@b"), 0); /* '@' past the authority */
    TT_EQ_LONG(codat_secrets_add_url_userinfo(&s, "proxy:3128"), 0);
    TT_EQ_LONG(codat_secrets_add_url_userinfo(&s, ""), 0);
    TT_EQ_LONG(codat_secrets_add_url_userinfo(&s, NULL), 0);
    TT_EQ_LONG(s.n, n);
    codat_secrets_free(&s);
}

int main(void)
{
    TT_RUN(authorization_gives_away_its_forms);
    TT_RUN(find_reads_every_escape);
    TT_RUN(redact_replaces_every_spelling);
    TT_RUN(redact_json_reaches_every_string);
    TT_RUN(holds_secret);
    TT_RUN(cut_tail_hides_a_secret_cut_short);
    TT_RUN(proxy_userinfo_gives_away_its_forms);
    return tt_summary();
}
