/* ratelimit.c: see ratelimit.h. */
#include <stdio.h>
#include <string.h>
#include "ratelimit.h"

void rate_limit_box_init(rate_limit_box *b)
{
    pthread_mutex_init(&b->lock, NULL);
    memset(&b->latest, 0, sizeof b->latest);
    b->latest.limit = b->latest.remaining = -1;
}

void rate_limit_box_destroy(rate_limit_box *b)
{
    pthread_mutex_destroy(&b->lock);
}

void rate_limit_note(rate_limit_box *b, long limit, long remaining, const char *reset)
{
    pthread_mutex_lock(&b->lock);
    codat_rate_limit *rl = &b->latest;
    /* Concurrent answers arrive out of order: within one quota window the lowest remaining is the newest
     * figure, so a late answer carrying a higher one is stale. Only a reset time names the window: without
     * one a higher figure may be a new window, and the latest answer wins. */
    if (rl->known && remaining > rl->remaining && rl->remaining >= 0 && reset[0] && strcmp(rl->reset, reset) == 0) {
        pthread_mutex_unlock(&b->lock);
        return;
    }
    rl->known = 1;
    rl->limit = limit;
    rl->remaining = remaining;
    snprintf(rl->reset, sizeof rl->reset, "%s", reset);
    pthread_mutex_unlock(&b->lock);
}

void rate_limit_read(rate_limit_box *b, codat_rate_limit *out)
{
    pthread_mutex_lock(&b->lock);
    *out = b->latest;
    pthread_mutex_unlock(&b->lock);
}
