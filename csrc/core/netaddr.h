/* netaddr.h: what a server URL says about where its bytes travel, pure (no DNS, no allocation). The
 * binding warns when an auth header would cross a network unencrypted. */
#ifndef CODAT_NETADDR_H
#define CODAT_NETADDR_H

/* Whether the host that starts at `host` (and ends at its end, ':' or '/') is a loopback name or address:
 * localhost, [::1] (also written in full) or a dotted-quad 127.x.y.z. Case is ignored. */
int codat_is_loopback_host(const char *host);
/* Whether url is plain http:// (any case) to a loopback host. False for https:// and for any other
 * scheme: this answers "plaintext that stays on this machine", not "nothing to warn about". */
int codat_is_loopback_http(const char *url);
/* Whether url is plain http:// (any case). */
int codat_is_plain_http(const char *url);

#endif
