/* url.h: building a request URL (url.c; codat_encode_segment and codat_check_server_url are in
 * codat.h, the binding uses them). Pure; tests/c/test_url.c, fuzz/fuzz_url.c. */
#ifndef CODAT_URL_H
#define CODAT_URL_H

#include <stddef.h>
#include "codat.h"

/* server_url + path for an endpoint and company. NULL when out of memory. */
char *codat_build_url(const char *server_url, codat_endpoint which, const char *company_id);

#endif
