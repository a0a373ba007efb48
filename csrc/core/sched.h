/* sched.h: one scheduler for the jobs of one libcurl multi handle (issue 13, the interface agreed between
 * h13core, who writes sched.c, and h13async, whose event-loop driver calls it). */
#ifndef CODAT_SCHED_H
#define CODAT_SCHED_H

#include "internal.h"

typedef struct codat_sched codat_sched;          /* the jobs of one libcurl multi handle */
typedef void (*sched_done_fn)(void *ctx, codat_job *job);  /* a finished job (job->out filled); runs inside
                                                            * sched_collect/sched_cancel on the driving thread */
typedef void (*sched_wake_fn)(void *ctx);        /* any thread, no lock held: a job of this scheduler that
                                                  * waited for a company slot was granted one; NULL =
                                                  * curl_multi_wakeup(sched_multi(s)) */
codat_sched *sched_new(codat_client *c, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx);
void   sched_free(codat_sched *s);               /* after sched_abort_all */
CURLM *sched_multi(codat_sched *s);
void   sched_add(codat_sched *s, codat_job *job, double now_ms);  /* queued, FIFO */
/* Starts queued and due jobs while fewer than `concurrency` run, no pause holds them and their company
 * has a slot (else the job joins that company's FIFO wait list; no polling). Returns ms until the next
 * due time (a retry, a pause's end), or -1 when nothing waits on time. */
double sched_start_due(codat_sched *s, double now_ms);
/* Reads libcurl's finished transfers (curl_multi_info_read), judges each attempt (judge.c) and applies
 * the verdict: done -> done(); retry at T / resend now -> waiting; pause -> every job of this scheduler
 * (and, in a batch, of the batch) held back until T; rate-limit figures -> the client's. */
void   sched_collect(codat_sched *s, double now_ms);
void   sched_cancel(codat_sched *s, unsigned long long id, codat_outcome outcome, const char *message);
void   sched_abort_all(codat_sched *s, codat_outcome outcome, const char *message);
int    sched_idle(const codat_sched *s);         /* nothing queued, running or waiting */

#endif
