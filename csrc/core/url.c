/* url.c: building request URLs. The company id is caller input, so it is percent-encoded as a single
 * path segment: only RFC 3986 unreserved characters pass through, which means "/", "..", "?", "#", "%"
 * and CR/LF can never change which resource is requested. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <curl/curl.h>
#include "codat.h"
#include "url.h"

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

char *codat_encode_segment(const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len > (((size_t)-1) - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (is_unreserved(ch)) {
            *p++ = (char)ch;
        } else {
            *p++ = '%';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 15];
        }
    }
    /* "." and ".." are unreserved but are dot-segments that a server or proxy may collapse; encode the dots
     * so that the id stays a literal segment. */
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        p = out;
        for (size_t i = 0; i < len; i++) {
            memcpy(p, "%2E", 3);
            p += 3;
        }
    }
    *p = '\0';
    return out;
}

static const char *endpoint_suffix(codat_endpoint which)
{
    return which == CODAT_EP_COMPANY ? "/accessToken" : "/connectionManagement/accessToken";
}

char *codat_build_url(const char *server_url, codat_endpoint which, const char *company_id)
{
    size_t base_len = strlen(server_url);
    while (base_len > 0 && server_url[base_len - 1] == '/')
        base_len--;
    char *segment = codat_encode_segment(company_id, strlen(company_id));
    if (!segment)
        return NULL;
    const char *suffix = endpoint_suffix(which);
    size_t total = base_len + strlen("/companies/") + strlen(segment) + strlen(suffix) + 1;
    char *url = malloc(total);
    if (url)
        snprintf(url, total, "%.*s/companies/%s%s", (int)base_len, server_url, segment, suffix);
    free(segment);
    return url;
}

static int set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int codat_check_server_url(const char *url, char *err, size_t errlen)
{
    size_t scheme_len;
    /* Schemes are case-insensitive (RFC 3986), and libcurl treats them so. */
    if (strncasecmp(url, "https://", 8) == 0)
        scheme_len = 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        scheme_len = 7;
    else
        return set_err(err, errlen, "server_url must start with http:// or https://");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f)
            return set_err(err, errlen, "server_url must not contain spaces or control characters");
        if (*p == '?' || *p == '#')
            return set_err(err, errlen, "server_url must not have a query or fragment");
    }
    const char *host = url + scheme_len;
    size_t authority_len = strcspn(host, "/");
    if (authority_len == 0 || host[0] == ':')
        return set_err(err, errlen, "server_url has no host");
    if (memchr(host, '@', authority_len))
        return set_err(err, errlen, "server_url must not carry credentials; use auth_header");
    /* Last, libcurl's own parser, which would otherwise refuse the URL only at request time, as a
     * transport error: a port past 65535 or not a number, a broken IPv6 literal, a host name with
     * characters no host name has. */
    CURLU *parsed = curl_url();
    if (!parsed)
        return set_err(err, errlen, "out of memory");
    CURLUcode rc = curl_url_set(parsed, CURLUPART_URL, url, 0);
    curl_url_cleanup(parsed);
    if (rc != CURLUE_OK) {
        char msg[160];
        snprintf(msg, sizeof msg, "server_url is not a valid URL: %s", curl_url_strerror(rc));
        return set_err(err, errlen, msg);
    }
    return 0;
}
