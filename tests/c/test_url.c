/* test_url.c: codat_encode_segment, codat_build_url, codat_check_server_url (csrc/core/url.c). */
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "url.h"
#include "tinytest.h"

static const char UNRESERVED[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

static int is_unreserved(unsigned char ch)
{
    return ch && strchr(UNRESERVED, ch) != NULL;
}

/* Encodes s[0..len) and compares with want; frees the result. */
#define ENC_EQ(s, len, want)                                          \
    do {                                                              \
        char *enc_ = codat_encode_segment((s), (len));                \
        TT_CHECK(enc_ != NULL);                                       \
        TT_EQ_STR(enc_, (want));                                      \
        free(enc_);                                                   \
    } while (0)
#define ENC_STR_EQ(s, want) ENC_EQ((s), strlen(s), (want))

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* ---- codat_encode_segment ---- */

TT_TEST(encode_unreserved_pass_through)
{
    ENC_STR_EQ(UNRESERVED, UNRESERVED);
    ENC_STR_EQ("abc123", "abc123");
    ENC_STR_EQ("8a210b68-6988-11ed-a1eb-0242ac120002", "8a210b68-6988-11ed-a1eb-0242ac120002");
    ENC_STR_EQ("a.b", "a.b");
    ENC_STR_EQ("~user_name-1.0", "~user_name-1.0");
}

TT_TEST(encode_every_other_byte_is_uppercase_percent_hex)
{
    static const char hex[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char in = (char)b;
        char want[4];
        if (is_unreserved((unsigned char)b) && b != '.') {
            want[0] = (char)b;
            want[1] = '\0';
        } else if (b == '.') {
            strcpy(want, "%2E"); /* a lone "." is a dot-segment */
        } else {
            want[0] = '%';
            want[1] = hex[b >> 4];
            want[2] = hex[b & 15];
            want[3] = '\0';
        }
        char *enc = codat_encode_segment(&in, 1);
        TT_CHECK_MSG(enc && strcmp(enc, want) == 0, "byte 0x%02X: got \"%s\", want \"%s\"", b,
                     enc ? enc : "(null)", want);
        free(enc);
    }
}

TT_TEST(encode_all_bytes_in_one_string)
{
    /* 256 bytes: 66 unreserved + 190 encoded as 3 chars each. */
    char in[256];
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    char *enc = codat_encode_segment(in, sizeof in);
    TT_CHECK(enc != NULL);
    if (!enc)
        return;
    TT_EQ_LONG(strlen(enc), 66 + 190 * 3);
    for (const char *p = enc; *p; p++) {
        if (*p == '%') {
            TT_CHECK(strchr("0123456789ABCDEF", p[1]) && p[1] && strchr("0123456789ABCDEF", p[2]) && p[2]);
            p += 2;
        } else {
            TT_CHECK_MSG(is_unreserved((unsigned char)*p), "reserved char 0x%02X left unencoded",
                         (unsigned char)*p);
        }
    }
    free(enc);
}

TT_TEST(encode_dot_segments)
{
    ENC_STR_EQ(".", "%2E");
    ENC_STR_EQ("..", "%2E%2E");
    /* Only the exact dot-segments are special; other dots are unreserved and pass through. */
    ENC_STR_EQ("...", "...");
    ENC_STR_EQ(".a", ".a");
    ENC_STR_EQ("a.", "a.");
    ENC_STR_EQ("..a", "..a");
    ENC_STR_EQ("./", ".%2F");
    ENC_STR_EQ("../", "..%2F");
    /* length-limited: "." taken from a longer buffer */
    ENC_EQ("..x", 1, "%2E");
    ENC_EQ("..x", 2, "%2E%2E");
}

TT_TEST(encode_reserved_delimiters)
{
    ENC_STR_EQ("/", "%2F");
    ENC_STR_EQ("?", "%3F");
    ENC_STR_EQ("#", "%23");
    ENC_STR_EQ("%", "%25");
    ENC_STR_EQ("%2F", "%252F"); /* already-encoded input is encoded again, never trusted */
    ENC_STR_EQ("a/b?c=d#e", "a%2Fb%3Fc%3Dd%23e");
    ENC_STR_EQ(" ", "%20");
    ENC_STR_EQ("+", "%2B");
    ENC_STR_EQ("@:;,=&$!'()*[]", "%40%3A%3B%2C%3D%26%24%21%27%28%29%2A%5B%5D");
    ENC_STR_EQ("\\", "%5C");
}

TT_TEST(encode_cr_lf_and_controls)
{
    ENC_STR_EQ("\r\n", "%0D%0A");
    ENC_STR_EQ("id\r\nX-Injected: 1", "id%0D%0AX-Injected%3A%201");
    ENC_STR_EQ("\t", "%09");
    ENC_STR_EQ("\x7f", "%7F");
    ENC_EQ("a\0b", 3, "a%00b"); /* an embedded NUL is data, not a terminator */
}

TT_TEST(encode_utf8_multibyte)
{
    ENC_STR_EQ("\xC3\xA9", "%C3%A9");                         /* é */
    ENC_STR_EQ("caf\xC3\xA9", "caf%C3%A9");
    ENC_STR_EQ("\xE6\x97\xA5\xE6\x9C\xAC", "%E6%97%A5%E6%9C%AC"); /* 日本 */
    ENC_STR_EQ("\xF0\x9F\x98\x80", "%F0%9F%98%80");             /* U+1F600 */
    ENC_STR_EQ("\xFF\xFE", "%FF%FE");                           /* not UTF-8 at all: still bytes */
}

TT_TEST(encode_empty)
{
    ENC_EQ("", 0, "");
    ENC_EQ("abc", 0, "");
    ENC_EQ("abc", 2, "ab"); /* reads only len bytes */
}

/* ---- codat_build_url ---- */

#define URL_EQ(server, which, id, want)                               \
    do {                                                              \
        char *url_ = codat_build_url((server), (which), (id));        \
        TT_CHECK(url_ != NULL);                                       \
        TT_EQ_STR(url_, (want));                                      \
        free(url_);                                                   \
    } while (0)

TT_TEST(build_url_both_endpoints)
{
    URL_EQ("https://api.codat.io", CODAT_EP_COMPANY, "abc",
           "https://api.codat.io/companies/abc/accessToken");
    URL_EQ("https://api.codat.io", CODAT_EP_CONNECTION_MANAGEMENT, "abc",
           "https://api.codat.io/companies/abc/connectionManagement/accessToken");
    URL_EQ("http://127.0.0.1:8080", CODAT_EP_COMPANY, "8a210b68-6988-11ed-a1eb-0242ac120002",
           "http://127.0.0.1:8080/companies/8a210b68-6988-11ed-a1eb-0242ac120002/accessToken");
}

TT_TEST(build_url_strips_trailing_slashes)
{
    URL_EQ("https://api.codat.io/", CODAT_EP_COMPANY, "abc",
           "https://api.codat.io/companies/abc/accessToken");
    URL_EQ("https://api.codat.io///", CODAT_EP_CONNECTION_MANAGEMENT, "abc",
           "https://api.codat.io/companies/abc/connectionManagement/accessToken");
    URL_EQ("http://localhost:1/base/", CODAT_EP_COMPANY, "abc",
           "http://localhost:1/base/companies/abc/accessToken");
    URL_EQ("http://localhost:1/base", CODAT_EP_COMPANY, "abc",
           "http://localhost:1/base/companies/abc/accessToken");
}

TT_TEST(build_url_hostile_id_stays_one_segment)
{
    URL_EQ("https://api.codat.io", CODAT_EP_COMPANY, "../../x",
           "https://api.codat.io/companies/..%2F..%2Fx/accessToken");
    URL_EQ("https://api.codat.io", CODAT_EP_CONNECTION_MANAGEMENT, "..",
           "https://api.codat.io/companies/%2E%2E/connectionManagement/accessToken");
    URL_EQ("https://api.codat.io", CODAT_EP_COMPANY, ".",
           "https://api.codat.io/companies/%2E/accessToken");
    URL_EQ("https://api.codat.io", CODAT_EP_COMPANY, "x?admin=1#frag",
           "https://api.codat.io/companies/x%3Fadmin%3D1%23frag/accessToken");
    URL_EQ("https://api.codat.io", CODAT_EP_COMPANY, "x\r\nHost: evil",
           "https://api.codat.io/companies/x%0D%0AHost%3A%20evil/accessToken");

    /* Count the slashes: 2 (scheme) + 2 ("/companies/") + 1 or 2 (suffix), none from the id. */
    const char *ids[] = {"../../x", "/", "//", "a/b/c/d", "..", ".", "%2F", "\\..\\", NULL};
    for (int i = 0; ids[i]; i++) {
        char *u1 = codat_build_url("https://api.codat.io", CODAT_EP_COMPANY, ids[i]);
        char *u2 = codat_build_url("https://api.codat.io/", CODAT_EP_CONNECTION_MANAGEMENT, ids[i]);
        TT_CHECK(u1 && u2);
        if (u1)
            TT_CHECK_MSG(count_char(u1, '/') == 5, "id \"%s\": %s", ids[i], u1);
        if (u2)
            TT_CHECK_MSG(count_char(u2, '/') == 6, "id \"%s\": %s", ids[i], u2);
        /* the id never produces a dot-segment */
        if (u1)
            TT_CHECK_MSG(!strstr(u1, "/../") && !strstr(u1, "/./"), "dot-segment in %s", u1);
        free(u1);
        free(u2);
    }
}

/* ---- codat_check_server_url ---- */

static int check_ok(const char *url)
{
    char err[128] = "untouched";
    return codat_check_server_url(url, err, sizeof err) == 0;
}

/* Refused, with a non-empty reason. */
static int check_refused(const char *url)
{
    char err[128] = "";
    int rc = codat_check_server_url(url, err, sizeof err);
    return rc == -1 && err[0] != '\0';
}

#define ACCEPTS(url) TT_CHECK_MSG(check_ok(url), "should accept \"%s\"", url)
#define REFUSES(url) TT_CHECK_MSG(check_refused(url), "should refuse \"%s\"", url)

TT_TEST(check_server_url_accepts_http_https)
{
    ACCEPTS("https://api.codat.io");
    ACCEPTS("https://api.codat.io/");
    ACCEPTS("http://api.codat.io");
    ACCEPTS("http://127.0.0.1:8080");
    ACCEPTS("http://[::1]:8080/base/");
    ACCEPTS("https://api.codat.io/some/prefix");
    ACCEPTS("https://api.codat.io/path@with-at"); /* '@' outside the authority is not userinfo */
    ACCEPTS("HTTPS://api.codat.io");               /* schemes are case-insensitive */
    ACCEPTS("Http://127.0.0.1:8080");
}

TT_TEST(check_server_url_refuses_other_schemes)
{
    REFUSES("ftp://api.codat.io");
    REFUSES("file:///etc/passwd");
    REFUSES("javascript:alert(1)");
    REFUSES("gopher://api.codat.io");
    REFUSES("api.codat.io");
    REFUSES("//api.codat.io");
    REFUSES("https:/api.codat.io");
    REFUSES("https:api.codat.io");
    REFUSES("");
    REFUSES(" https://api.codat.io");
}

TT_TEST(check_server_url_refuses_userinfo)
{
    REFUSES("https://user:pass@api.codat.io");
    REFUSES("https://user@api.codat.io/");
    REFUSES("https://@api.codat.io");
    REFUSES("http://api.codat.io@evil.example/");
}

TT_TEST(check_server_url_refuses_spaces_and_controls)
{
    REFUSES("https://api.codat.io /x");
    REFUSES("https://api codat.io");
    REFUSES("https://api.codat.io\t");
    REFUSES("https://api.codat.io\n");
    REFUSES("https://api.codat.io\r\nX-Injected: 1");
    REFUSES("https://api.codat.io/\r");
    REFUSES("https://api.co\x01" "dat.io");
    REFUSES("https://api.codat.io/\x7f");
    REFUSES("https://api.codat.io/\x1b[0m");
}

TT_TEST(check_server_url_refuses_query_and_fragment)
{
    REFUSES("https://api.codat.io/?a=b");
    REFUSES("https://api.codat.io?");
    REFUSES("https://api.codat.io/#frag");
    REFUSES("https://api.codat.io#");
}

TT_TEST(check_server_url_refuses_empty_host)
{
    REFUSES("http://");
    REFUSES("https://");
    REFUSES("https:///path");
    REFUSES("http:///");
}

/* An authority made only of a port has an empty host all the same (RFC 3986 host = ""): libcurl would
 * reject it only at request time, with a transport error instead of a ValueError at construction. */
TT_TEST(check_server_url_refuses_empty_host_with_port)
{
    REFUSES("http://:8080");
    REFUSES("https://:443/base");
}

/* What libcurl's own parser refuses must be refused when the client is made, not at request time. */
TT_TEST(check_server_url_refuses_what_libcurl_cannot_parse)
{
    REFUSES("http://h:99999");
    REFUSES("http://h:-1");
    REFUSES("http://h:port");
    REFUSES("http://[::1");
    REFUSES("http://h{x}");
    ACCEPTS("http://h:65535");
    ACCEPTS("http://[::1]:8080");
}

TT_TEST(check_server_url_err_buffer_handling)
{
    /* err may be NULL or tiny; the result never depends on it and a tiny buffer stays terminated. */
    TT_EQ_LONG(codat_check_server_url("ftp://x", NULL, 0), -1);
    TT_EQ_LONG(codat_check_server_url("ftp://x", NULL, 100), -1);
    char tiny[4] = {'x', 'x', 'x', 'x'};
    TT_EQ_LONG(codat_check_server_url("ftp://x", tiny, sizeof tiny), -1);
    TT_CHECK(memchr(tiny, '\0', sizeof tiny) != NULL);
    char one[1] = {'x'};
    TT_EQ_LONG(codat_check_server_url("ftp://x", one, sizeof one), -1);
    TT_EQ_LONG(one[0], '\0');
    TT_EQ_LONG(codat_check_server_url("https://api.codat.io", NULL, 0), 0);
}

int main(void)
{
    TT_RUN(encode_unreserved_pass_through);
    TT_RUN(encode_every_other_byte_is_uppercase_percent_hex);
    TT_RUN(encode_all_bytes_in_one_string);
    TT_RUN(encode_dot_segments);
    TT_RUN(encode_reserved_delimiters);
    TT_RUN(encode_cr_lf_and_controls);
    TT_RUN(encode_utf8_multibyte);
    TT_RUN(encode_empty);
    TT_RUN(build_url_both_endpoints);
    TT_RUN(build_url_strips_trailing_slashes);
    TT_RUN(build_url_hostile_id_stays_one_segment);
    TT_RUN(check_server_url_accepts_http_https);
    TT_RUN(check_server_url_refuses_other_schemes);
    TT_RUN(check_server_url_refuses_userinfo);
    TT_RUN(check_server_url_refuses_spaces_and_controls);
    TT_RUN(check_server_url_refuses_query_and_fragment);
    TT_RUN(check_server_url_refuses_empty_host);
    TT_RUN(check_server_url_refuses_empty_host_with_port);
    TT_RUN(check_server_url_refuses_what_libcurl_cannot_parse);
    TT_RUN(check_server_url_err_buffer_handling);
    return tt_summary();
}
