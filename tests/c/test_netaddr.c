/* test_netaddr.c: codat_is_loopback_host, codat_is_loopback_http, codat_is_plain_http
 * (csrc/core/netaddr.c). */
#include "netaddr.h"
#include "tinytest.h"

TT_TEST(loopback_hosts)
{
    TT_CHECK(codat_is_loopback_host("localhost"));
    TT_CHECK(codat_is_loopback_host("LocalHost:8080"));
    TT_CHECK(codat_is_loopback_host("127.0.0.1"));
    TT_CHECK(codat_is_loopback_host("127.255.1.2/x"));
    TT_CHECK(codat_is_loopback_host("[::1]"));
    TT_CHECK(codat_is_loopback_host("[::1]:443"));
    TT_CHECK(codat_is_loopback_host("[0:0:0:0:0:0:0:1]/"));
}

TT_TEST(hosts_that_only_look_like_loopback)
{
    TT_CHECK(!codat_is_loopback_host("localhost.example.com"));
    TT_CHECK(!codat_is_loopback_host("localhostx"));
    TT_CHECK(!codat_is_loopback_host("127.0.0.1.example.com"));
    TT_CHECK(!codat_is_loopback_host("127.0.0"));
    TT_CHECK(!codat_is_loopback_host("127.0.0.256"));
    TT_CHECK(!codat_is_loopback_host("127.0.0.0001"));
    TT_CHECK(!codat_is_loopback_host("128.0.0.1"));
    TT_CHECK(!codat_is_loopback_host("10.0.0.1"));
    TT_CHECK(!codat_is_loopback_host("[::2]"));
    TT_CHECK(!codat_is_loopback_host("[::1"));
    TT_CHECK(!codat_is_loopback_host(""));
    TT_CHECK(!codat_is_loopback_host("api.codat.io"));
}

TT_TEST(loopback_http_is_only_plain_http)
{
    TT_CHECK(codat_is_loopback_http("http://127.0.0.1:8080"));
    TT_CHECK(codat_is_loopback_http("HTTP://localhost/"));
    TT_CHECK(codat_is_loopback_http("http://[::1]:9"));
    TT_CHECK(!codat_is_loopback_http("http://api.codat.io"));
    TT_CHECK(!codat_is_loopback_http("http://127.0.0.1.example.com"));
    /* regression: https was answered true ("nothing to warn about"), which is not what the name says */
    TT_CHECK(!codat_is_loopback_http("https://127.0.0.1"));
    TT_CHECK(!codat_is_loopback_http("https://localhost:8443"));
    TT_CHECK(!codat_is_loopback_http("https://api.codat.io"));
    TT_CHECK(!codat_is_loopback_http("ftp://127.0.0.1"));
}

TT_TEST(plain_http)
{
    TT_CHECK(codat_is_plain_http("http://x"));
    TT_CHECK(codat_is_plain_http("hTtP://x"));
    TT_CHECK(!codat_is_plain_http("https://x"));
    TT_CHECK(!codat_is_plain_http("http:/x"));
    TT_CHECK(!codat_is_plain_http(""));
}

int main(void)
{
    TT_RUN(loopback_hosts);
    TT_RUN(hosts_that_only_look_like_loopback);
    TT_RUN(loopback_http_is_only_plain_http);
    TT_RUN(plain_http);
    return tt_summary();
}
