/* ratelimit.h: the client's latest rate-limit figures, under their own lock. The scheduler notes what each
 * answer said; codat_client_rate_limit reads it. */
#ifndef CODAT_RATELIMIT_H
#define CODAT_RATELIMIT_H

#include <pthread.h>
#include "codat.h"

typedef struct {
    pthread_mutex_t lock;
    codat_rate_limit latest;
} rate_limit_box;

void rate_limit_box_init(rate_limit_box *b);
void rate_limit_box_destroy(rate_limit_box *b);
/* One answer's figures (-1 for an absent number, "" for an absent reset). */
void rate_limit_note(rate_limit_box *b, long limit, long remaining, const char *reset);
void rate_limit_read(rate_limit_box *b, codat_rate_limit *out);

#endif
