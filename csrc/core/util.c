/* util.c: the clock and the growing buffer every file of the core uses. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"

double codat_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int growbuf_append(growbuf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void growbuf_free(growbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
