/* test_classify.c: codat_is_json_content_type, codat_is_error_message_status, codat_classify
 * (csrc/core/classify.c). Every cJSON handed out is freed, so valgrind sees no leak. */
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "classify.h"
#include "tinytest.h"

#define JSON "application/json"
#define OBJ "{\"accessToken\":\"tok\",\"expiresIn\":3600}"
#define ERR_OBJ "{\"statusCode\":404,\"error\":\"Not found\",\"correlationId\":\"c1\",\"canBeRetried\":\"Unknown\"}"

static cJSON *const SENTINEL = (cJSON *)(void *)&tt_passed; /* any non-NULL pointer we never free */

/* Runs codat_classify on a NUL-terminated body, checks the outcome, that json_out is set exactly for
 * CODAT_OK / CODAT_ERROR_MESSAGE (and is an object), and frees it. */
static void expect_classify(const char *file, int line, long status, const char *ctype, const char *body,
                            size_t len, codat_outcome want)
{
    cJSON *json = SENTINEL;
    codat_outcome got = codat_classify(status, ctype, body, len, &json);
    tt_checks++;
    if (got != want)
        tt_fail_at(file, line, "classify(%ld, \"%s\", \"%.60s\"): got outcome %d, want %d", status,
                   ctype ? ctype : "(null)", body ? body : "(null)", (int)got, (int)want);
    int should_have_json = want == CODAT_OK || want == CODAT_ERROR_MESSAGE;
    if (json == SENTINEL) {
        tt_fail_at(file, line, "classify(%ld, ...): json_out left untouched", status);
        return;
    }
    if (should_have_json && got == want && !cJSON_IsObject(json))
        tt_fail_at(file, line, "classify(%ld, ...): json_out is not an object (%p)", status, (void *)json);
    if (!should_have_json && json != NULL)
        tt_fail_at(file, line, "classify(%ld, ...): json_out should be NULL for outcome %d", status, (int)got);
    cJSON_Delete(json); /* the caller owns it */
}

#define CLASSIFY(status, ctype, body, want) \
    expect_classify(__FILE__, __LINE__, (status), (ctype), (body), (body) ? strlen(body) : 0, (want))
#define CLASSIFY_LEN(status, ctype, body, len, want) \
    expect_classify(__FILE__, __LINE__, (status), (ctype), (body), (len), (want))

static const long ERROR_MESSAGE_STATUSES[] = {401, 402, 403, 404, 429, 500, 503};
#define N_EMS (sizeof ERROR_MESSAGE_STATUSES / sizeof ERROR_MESSAGE_STATUSES[0])

/* ---- codat_is_json_content_type ---- */

TT_TEST(json_content_type_accepts)
{
    TT_CHECK(codat_is_json_content_type("application/json"));
    TT_CHECK(codat_is_json_content_type("application/json; charset=utf-8"));
    TT_CHECK(codat_is_json_content_type("application/json;charset=UTF-8"));
    TT_CHECK(codat_is_json_content_type("application/json ; charset=utf-8"));
    TT_CHECK(codat_is_json_content_type("Application/JSON"));
    TT_CHECK(codat_is_json_content_type("APPLICATION/JSON; CHARSET=UTF-8"));
    TT_CHECK(codat_is_json_content_type(" application/json"));
    TT_CHECK(codat_is_json_content_type("application/json "));
    TT_CHECK(codat_is_json_content_type("\tapplication/json\t"));
}

TT_TEST(json_content_type_refuses)
{
    TT_CHECK(!codat_is_json_content_type(NULL));
    TT_CHECK(!codat_is_json_content_type(""));
    TT_CHECK(!codat_is_json_content_type("application/jsonp"));
    TT_CHECK(!codat_is_json_content_type("application/jsonp; charset=utf-8"));
    TT_CHECK(!codat_is_json_content_type("application/json-patch+json"));
    TT_CHECK(!codat_is_json_content_type("application/problem+json"));
    TT_CHECK(!codat_is_json_content_type("application/jso"));
    TT_CHECK(!codat_is_json_content_type("application"));
    TT_CHECK(!codat_is_json_content_type("text/json"));
    TT_CHECK(!codat_is_json_content_type("text/plain"));
    TT_CHECK(!codat_is_json_content_type("text/html; charset=utf-8"));
    TT_CHECK(!codat_is_json_content_type("application/json x"));
    TT_CHECK(!codat_is_json_content_type("xapplication/json"));
}

/* ---- codat_is_error_message_status ---- */

TT_TEST(error_message_status_set)
{
    int n = 0;
    for (long s = -1; s < 1000; s++) {
        int want = 0;
        for (size_t i = 0; i < N_EMS; i++)
            want |= s == ERROR_MESSAGE_STATUSES[i];
        TT_CHECK_MSG(!!codat_is_error_message_status(s) == want, "status %ld", s);
        n += want;
    }
    TT_EQ_LONG(n, 7);
}

/* ---- codat_classify: 2XX ---- */

TT_TEST(classify_200_json_object_ok)
{
    CLASSIFY(200, JSON, OBJ, CODAT_OK);
    CLASSIFY(200, JSON "; charset=utf-8", OBJ, CODAT_OK);
    CLASSIFY(200, "Application/Json", OBJ, CODAT_OK);
    CLASSIFY(200, JSON, "  \n" OBJ "\r\n  ", CODAT_OK); /* surrounding whitespace is valid JSON */
    CLASSIFY(201, JSON, OBJ, CODAT_OK);
    CLASSIFY(299, JSON, OBJ, CODAT_OK);

    /* the object really is the body */
    cJSON *json = NULL;
    TT_EQ_LONG(codat_classify(200, JSON, OBJ, strlen(OBJ), &json), CODAT_OK);
    TT_CHECK(json != NULL);
    if (json) {
        TT_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "accessToken")), "tok");
        TT_EQ_DBL(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(json, "expiresIn")), 3600);
    }
    cJSON_Delete(json);
}

TT_TEST(classify_200_non_object_json_sdk_error)
{
    CLASSIFY(200, JSON, "[]", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "[" OBJ "]", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "\"tok\"", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "42", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "-1.5e3", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "true", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "null", CODAT_SDK_ERROR);
}

TT_TEST(classify_200_wrong_content_type_sdk_error)
{
    CLASSIFY(200, "text/plain", OBJ, CODAT_SDK_ERROR);
    CLASSIFY(200, "text/html; charset=utf-8", OBJ, CODAT_SDK_ERROR);
    CLASSIFY(200, "application/jsonp", OBJ, CODAT_SDK_ERROR);
    CLASSIFY(200, "", OBJ, CODAT_SDK_ERROR);
    CLASSIFY(200, NULL, OBJ, CODAT_SDK_ERROR);
    CLASSIFY(200, "text/plain", "hello", CODAT_SDK_ERROR);
}

TT_TEST(classify_200_malformed_json_sdk_error)
{
    CLASSIFY(200, JSON, "{", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "{\"a\":}", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "{\"a\":1,}", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "{'a':1}", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "not json", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "<html>oops</html>", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "   ", CODAT_SDK_ERROR);
    CLASSIFY_LEN(200, JSON, NULL, 0, CODAT_SDK_ERROR);
    CLASSIFY_LEN(200, JSON, OBJ, 0, CODAT_SDK_ERROR);
    /* a truncated body: only len bytes count, even though the buffer holds the whole object */
    CLASSIFY_LEN(200, JSON, OBJ, strlen(OBJ) - 1, CODAT_SDK_ERROR);
}

/* Extra bytes after the object make the body malformed JSON (Python's json.loads: "Extra data"), so the
 * API did not keep its promise. */
TT_TEST(classify_200_trailing_garbage_sdk_error)
{
    CLASSIFY(200, JSON, "{\"a\":1}x", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "{\"a\":1}{\"b\":2}", CODAT_SDK_ERROR);
    CLASSIFY(200, JSON, "{} ]", CODAT_SDK_ERROR);
    CLASSIFY(404, JSON, ERR_OBJ "<html>", CODAT_SDK_ERROR);
    /* an embedded NUL inside len is not the end of the body */
    CLASSIFY_LEN(200, JSON, "{\"a\":1}\0garbage", 15, CODAT_SDK_ERROR);
}

TT_TEST(classify_body_need_not_be_nul_terminated)
{
    /* exactly len bytes, no terminator after them */
    char *buf = malloc(strlen(OBJ));
    TT_CHECK(buf != NULL);
    if (!buf)
        return;
    memcpy(buf, OBJ, strlen(OBJ));
    CLASSIFY_LEN(200, JSON, buf, strlen(OBJ), CODAT_OK);
    CLASSIFY_LEN(200, JSON, buf, strlen(OBJ) - 1, CODAT_SDK_ERROR);
    free(buf);
}

TT_TEST(classify_deep_nesting_is_refused_not_crashing)
{
    size_t depth = 100000;
    char *body = malloc(depth * 2 + 16);
    TT_CHECK(body != NULL);
    if (!body)
        return;
    char *p = body;
    p += sprintf(p, "{\"a\":");
    memset(p, '[', depth);
    p += depth;
    memset(p, ']', depth);
    p += depth;
    *p++ = '}';
    *p = '\0';
    CLASSIFY(200, JSON, body, CODAT_SDK_ERROR);
    free(body);
}

/* ---- codat_classify: error statuses ---- */

TT_TEST(classify_error_message_statuses_with_json_object)
{
    for (size_t i = 0; i < N_EMS; i++) {
        long s = ERROR_MESSAGE_STATUSES[i];
        CLASSIFY(s, JSON, ERR_OBJ, CODAT_ERROR_MESSAGE);
        CLASSIFY(s, JSON "; charset=utf-8", ERR_OBJ, CODAT_ERROR_MESSAGE);
        CLASSIFY(s, "APPLICATION/JSON", "{}", CODAT_ERROR_MESSAGE);
    }
    cJSON *json = NULL;
    TT_EQ_LONG(codat_classify(404, JSON, ERR_OBJ, strlen(ERR_OBJ), &json), CODAT_ERROR_MESSAGE);
    TT_CHECK(json != NULL);
    if (json)
        TT_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(json, "error")), "Not found");
    cJSON_Delete(json);
}

TT_TEST(classify_error_message_statuses_with_bad_body_sdk_error)
{
    for (size_t i = 0; i < N_EMS; i++) {
        long s = ERROR_MESSAGE_STATUSES[i];
        CLASSIFY(s, "text/html", "<html><body>Bad Gateway</body></html>", CODAT_SDK_ERROR);
        CLASSIFY(s, "text/html", ERR_OBJ, CODAT_SDK_ERROR); /* JSON text, wrong content type */
        CLASSIFY(s, NULL, ERR_OBJ, CODAT_SDK_ERROR);
        CLASSIFY(s, JSON, "{\"statusCode\":", CODAT_SDK_ERROR);
        CLASSIFY(s, JSON, "not json", CODAT_SDK_ERROR);
        CLASSIFY(s, JSON, "", CODAT_SDK_ERROR);
        CLASSIFY(s, JSON, "[" ERR_OBJ "]", CODAT_SDK_ERROR);
        CLASSIFY(s, JSON, "\"Not found\"", CODAT_SDK_ERROR);
    }
}

TT_TEST(classify_other_error_statuses_sdk_error)
{
    const long others[] = {400, 405, 408, 409, 418, 422, 499, 501, 502, 504, 599, 600, 999};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        CLASSIFY(others[i], JSON, ERR_OBJ, CODAT_SDK_ERROR);
        CLASSIFY(others[i], "text/plain", "oops", CODAT_SDK_ERROR);
    }
}

TT_TEST(classify_redirects_and_informational_sdk_error)
{
    const long st[] = {100, 101, 103, 199, 300, 301, 302, 303, 304, 307, 308};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        CLASSIFY(st[i], JSON, OBJ, CODAT_SDK_ERROR);
        CLASSIFY(st[i], "text/html", "", CODAT_SDK_ERROR);
    }
}

TT_TEST(classify_odd_statuses_sdk_error)
{
    const long st[] = {0, -1, -200, 1, 99, 1000, 200000, 2147483647L};
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
        CLASSIFY(st[i], JSON, OBJ, CODAT_SDK_ERROR);
}

TT_TEST(classify_json_out_ownership)
{
    /* json_out is reset to NULL even when it held something, and set only on OK / ERROR_MESSAGE. */
    cJSON *json = SENTINEL;
    TT_EQ_LONG(codat_classify(502, JSON, ERR_OBJ, strlen(ERR_OBJ), &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL);
    json = SENTINEL;
    TT_EQ_LONG(codat_classify(200, JSON, "[1,2,3]", 7, &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL); /* the parsed array was freed inside, not leaked (valgrind checks) */

    /* Many allocations handed out and freed by the caller: valgrind would report any leak. */
    for (int i = 0; i < 200; i++) {
        json = NULL;
        codat_outcome o = codat_classify(i % 2 ? 200 : 500, JSON, OBJ, strlen(OBJ), &json);
        TT_CHECK(o == (i % 2 ? CODAT_OK : CODAT_ERROR_MESSAGE) && json != NULL);
        cJSON_Delete(json);
    }
    /* two results are independent trees */
    cJSON *a = NULL, *b = NULL;
    codat_classify(200, JSON, OBJ, strlen(OBJ), &a);
    codat_classify(200, JSON, OBJ, strlen(OBJ), &b);
    TT_CHECK(a && b && a != b);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

#define UTF8(lit) codat_is_valid_utf8(lit, sizeof(lit) - 1)

TT_TEST(utf8_validation)
{
    TT_CHECK(UTF8(""));
    TT_CHECK(UTF8("plain ascii"));
    TT_CHECK(UTF8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"));   /* 2, 3 and 4 byte forms */
    TT_CHECK(UTF8("\xf4\x8f\xbf\xbf"));                           /* U+10FFFF */
    TT_CHECK(!UTF8("ab\xff" "cd"));                               /* never valid */
    TT_CHECK(!UTF8("\xc3"));                                      /* truncated */
    TT_CHECK(!UTF8("\xe2\x9c"));
    TT_CHECK(!UTF8("\xc0\xaf"));                                  /* overlong "/" */
    TT_CHECK(!UTF8("\xe0\x80\xaf"));
    TT_CHECK(!UTF8("\xed\xa0\x80"));                              /* surrogate U+D800 */
    TT_CHECK(!UTF8("\xf4\x90\x80\x80"));                          /* past U+10FFFF */
    TT_CHECK(!UTF8("\x80"));                                      /* lone continuation */
}

TT_TEST(classify_invalid_utf8_is_sdk_error)
{
    static const char body[] = "{\"accessToken\": \"ab\xff" "cd\"}";
    cJSON *json = NULL;
    TT_EQ_LONG(codat_classify(200, "application/json", body, sizeof body - 1, &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL);
    static const char err[] = "{\"error\": \"\xc0\xaf\"}";
    TT_EQ_LONG(codat_classify(404, "application/json", err, sizeof err - 1, &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL);
}

/* cJSON strings stop at a NUL, so an escaped one would cut a token short: refused. An escaped backslash
 * followed by "u0000" is ordinary text and stays. */
TT_TEST(classify_escaped_nul)
{
    static const char in_value[] = "{\"accessToken\": \"abc\\u0000def\"}";
    static const char in_key[] = "{\"access\\u0000Token\": \"abc\"}";
    static const char literal[] = "{\"accessToken\": \"abc\\\\u0000def\"}";
    cJSON *json = NULL;
    TT_EQ_LONG(codat_classify(200, "application/json", in_value, sizeof in_value - 1, &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL);
    TT_EQ_LONG(codat_classify(200, "application/json", in_key, sizeof in_key - 1, &json), CODAT_SDK_ERROR);
    TT_CHECK(json == NULL);
    TT_EQ_LONG(codat_classify(200, "application/json", literal, sizeof literal - 1, &json), CODAT_OK);
    TT_CHECK(json != NULL);
    if (json) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(json, "accessToken");
        TT_CHECK(cJSON_IsString(tok) && strcmp(tok->valuestring, "abc\\u0000def") == 0);
        cJSON_Delete(json);
    }
}

/* A raw NUL byte cuts a cJSON string short just as the escape does: refused anywhere in the body. */
TT_TEST(classify_raw_nul)
{
    static const char in_value[] = "{\"accessToken\":\"tok-REAL\0-REST\"}";
    static const char in_key[] = "{\"accessToken\":\"good\",\"accessToken\0zzz\":\"evil\"}";
    static const char after[] = "{\"accessToken\":\"t\"}\0";
    CLASSIFY_LEN(200, JSON, in_value, sizeof in_value - 1, CODAT_SDK_ERROR);
    CLASSIFY_LEN(200, JSON, in_key, sizeof in_key - 1, CODAT_SDK_ERROR);
    CLASSIFY_LEN(200, JSON, after, sizeof after - 1, CODAT_SDK_ERROR);
    CLASSIFY_LEN(404, JSON, in_value, sizeof in_value - 1, CODAT_SDK_ERROR);
    cJSON *json = NULL;
    const char *why = NULL;
    codat_classify_why(200, JSON, in_value, sizeof in_value - 1, &json, &why);
    TT_CHECK(why && strstr(why, "NUL"));
}

/* A 2XX is a token only with an accessToken string; with duplicate keys the last one counts. */
TT_TEST(classify_2xx_needs_an_access_token_string)
{
    static const char *const none[] = {
        "{}", "{\"accessToken\":null}", "{\"accessToken\":5}", "{\"accessToken\":{}}",
        "{\"accessToken\":[\"t\"]}", "{\"accessToken\":true}", "{\"AccessToken\":\"t\"}",
        "{\"accessToken\":\"t\",\"accessToken\":null}", "{\"x\":{\"accessToken\":\"t\"}}",
    };
    for (size_t i = 0; i < sizeof none / sizeof *none; i++) {
        CLASSIFY(200, JSON, none[i], CODAT_SDK_ERROR);
        cJSON *json = NULL;
        const char *why = NULL;
        TT_EQ_LONG(codat_classify_why(204, JSON, none[i], strlen(none[i]), &json, &why), CODAT_SDK_ERROR);
        TT_EQ_STR(why, "the answer holds no accessToken string");
        TT_CHECK(json == NULL);
    }
    CLASSIFY(200, JSON, "{\"accessToken\":null,\"accessToken\":\"last\"}", CODAT_OK);
    CLASSIFY(200, JSON, "{\"accessToken\":\"\"}", CODAT_OK); /* a string, if an odd one */
    /* an error status needs no token */
    CLASSIFY(404, JSON, "{}", CODAT_ERROR_MESSAGE);
}

/* What was wrong with a 2XX, said so; nothing said for the outcomes that are not SDK errors. */
TT_TEST(classify_why_names_the_problem)
{
    static const struct { long status; const char *ctype, *body, *want; } cases[] = {
        {200, "text/plain", OBJ, "unexpected content type (expected application/json)"},
        {200, NULL, OBJ, "unexpected response (no content type; expected application/json)"},
        {200, JSON, "", "unexpected response body (expected a JSON object, got an empty body)"},
        {200, JSON, "[1]", "unexpected response body (expected a JSON object)"},
        {200, JSON, "{\"accessToken\":\"\xff\"}", "unexpected response body (expected a JSON object; the body is not valid UTF-8)"},
        {200, JSON, "{\"accessToken\":\"a\\u0000\"}", "unexpected response body (a JSON string holds a NUL character)"},
        {200, JSON, OBJ, NULL},
        {404, JSON, ERR_OBJ, NULL},
        {500, "text/html", "x", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *json = NULL;
        const char *why = "untouched";
        codat_classify_why(cases[i].status, cases[i].ctype, cases[i].body, strlen(cases[i].body), &json, &why);
        TT_EQ_STR(why, cases[i].want);
        cJSON_Delete(json);
    }
}

static void expect_repair(const char *in, size_t len, size_t cap, const char *want)
{
    char out[80];
    memset(out, 'Z', sizeof out);
    size_t n = codat_utf8_repair(in, len, out, cap);
    TT_EQ_STR(out, want);
    TT_EQ_LONG(n, strlen(want));
    TT_CHECK(codat_is_valid_utf8(out, n));
}

TT_TEST(utf8_repair_never_stores_broken_utf8)
{
    expect_repair("plain", 5, 64, "plain");
    expect_repair("\xff\xfe x", 4, 64, "\xEF\xBF\xBD\xEF\xBF\xBD x");
    expect_repair("ok\xc3", 3, 64, "ok\xEF\xBF\xBD");                 /* a lead byte at the end */
    expect_repair("\xe2\x82", 2, 64, "\xEF\xBF\xBD\xEF\xBF\xBD");     /* a sequence cut short */
    expect_repair("a\0b", 3, 64, "a\xEF\xBF\xBD" "b");                 /* NUL */
    expect_repair("\xed\xa0\x80", 3, 64, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); /* a surrogate */
    /* cut at the buffer only between characters: "xé" in 3 bytes of room keeps "x" */
    expect_repair("x\xc3\xa9", 3, 3, "x");
    expect_repair("x\xc3\xa9", 3, 4, "x\xc3\xa9");
    expect_repair("\xe2\x82\xac\xe2\x82\xac", 6, 6, "\xe2\x82\xac");
    expect_repair("abc", 3, 1, "");
}

int main(void)
{
    TT_RUN(json_content_type_accepts);
    TT_RUN(json_content_type_refuses);
    TT_RUN(error_message_status_set);
    TT_RUN(classify_200_json_object_ok);
    TT_RUN(classify_200_non_object_json_sdk_error);
    TT_RUN(classify_200_wrong_content_type_sdk_error);
    TT_RUN(classify_200_malformed_json_sdk_error);
    TT_RUN(classify_200_trailing_garbage_sdk_error);
    TT_RUN(classify_body_need_not_be_nul_terminated);
    TT_RUN(classify_deep_nesting_is_refused_not_crashing);
    TT_RUN(classify_error_message_statuses_with_json_object);
    TT_RUN(classify_error_message_statuses_with_bad_body_sdk_error);
    TT_RUN(classify_other_error_statuses_sdk_error);
    TT_RUN(classify_redirects_and_informational_sdk_error);
    TT_RUN(classify_odd_statuses_sdk_error);
    TT_RUN(classify_json_out_ownership);
    TT_RUN(utf8_validation);
    TT_RUN(classify_invalid_utf8_is_sdk_error);
    TT_RUN(classify_escaped_nul);
    TT_RUN(classify_raw_nul);
    TT_RUN(classify_2xx_needs_an_access_token_string);
    TT_RUN(classify_why_names_the_problem);
    TT_RUN(utf8_repair_never_stores_broken_utf8);
    return tt_summary();
}
