/* netaddr.c: see netaddr.h. */
#include <string.h>
#include <strings.h>
#include "netaddr.h"

static int ends_host(char c)
{
    return c == '\0' || c == ':' || c == '/';
}

/* Exactly four dot-separated decimal parts, each 0-255 written in at most 3 digits, the first 127. */
static int is_ipv4_loopback(const char *p)
{
    for (int part = 0; part < 4; part++) {
        int digits = 0, value = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            value = value * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || value > 255 || (part == 0 && value != 127))
            return 0;
        if (part < 3 && *p++ != '.')
            return 0;
    }
    return ends_host(*p);
}

int codat_is_loopback_host(const char *host)
{
    if (is_ipv4_loopback(host))
        return 1;
    /* ::1 as URLs write it, short and in full */
    static const char *const names[] = {"localhost", "[::1]", "[0:0:0:0:0:0:0:1]"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(host, names[i], n) == 0 && ends_host(host[n]))
            return 1;
    }
    return 0;
}

int codat_is_plain_http(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0;
}

int codat_is_loopback_http(const char *url)
{
    return codat_is_plain_http(url) && codat_is_loopback_host(url + 7);
}
