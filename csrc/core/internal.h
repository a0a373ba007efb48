/* internal.h: what every file of the core shares; not part of the contract in codat.h. */
#ifndef CODAT_INTERNAL_H
#define CODAT_INTERNAL_H

#include <stddef.h>
#include "codat.h"

#define CODAT_DEFAULT_MAX_BODY (4u * 1024u * 1024u)
#define CODAT_CANCEL_POLL_MS 50
#define CODAT_PROGRESS_MS 100
#define CODAT_MAX_IDLE_SCHEDS 64           /* schedulers (multi handles) a client keeps for later calls */
#define CODAT_MAX_IDLE_EASY 32
#define CODAT_ASYNC_CONCURRENCY CODAT_DEFAULT_CONCURRENCY /* awaits in flight: the batches' default too */
#define CODAT_COMPANY_LIMIT 10             /* Codat: at most 10 concurrent requests per company */
#define CODAT_MAX_BATCH_THREADS 64
#define CODAT_AUTO_MAX_THREADS 4          /* threads=auto never uses more */
#define CODAT_AUTO_JOBS_PER_THREAD 256    /* below this a thread costs more than it saves */
#define CODAT_AUTO_SLOTS_PER_THREAD 4     /* each thread keeps at least this many transfers in flight */

typedef struct {
    char *data;
    size_t len, cap;
} growbuf;

int growbuf_append(growbuf *b, const char *data, size_t n); /* 0, or -1 when out of memory */
void growbuf_free(growbuf *b);

/* Monotonic milliseconds. */
double codat_now_ms(void);

#endif
