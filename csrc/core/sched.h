/* sched.h: the one scheduler. It runs the jobs of one libcurl multi handle for whichever driver owns that
 * handle: a blocking call or one thread of a batch (batch.c), the asynchronous I/O thread (io_thread.c), or
 * an event loop driving libcurl's socket interface. The driver calls curl_multi_perform + curl_multi_poll
 * (or curl_multi_socket_action from its callbacks), then sched_collect and sched_start_due; the scheduler
 * starts attempts (attempt.c), judges each one that ends (judge.c) and applies the verdict: done, retry at a
 * time, resend now, pause every start until a time, rate-limit figures for the client. Per-company admission
 * is here too: an attempt starts only with one of its company's slots (slots.c), else its job waits in the
 * company's first-come-first-served wait list and is woken when a slot frees. Nothing polls.
 *
 * One thread drives a scheduler at a time; only the wake function runs elsewhere. */
#ifndef CODAT_SCHED_H
#define CODAT_SCHED_H

#include <stdatomic.h>
#include <curl/curl.h>
#include "attempt.h"

typedef struct codat_sched codat_sched;
/* A finished job (job->out filled); runs inside sched_collect/sched_cancel/sched_abort_all/sched_start_due
 * on the driving thread. The job has left the scheduler: the callee may free it. */
typedef void (*sched_done_fn)(void *ctx, codat_job *job);
/* Any thread, no lock held: a job of this scheduler that waited for a company slot was granted one. NULL =
 * curl_multi_wakeup(sched_multi(s)). It must not wait for anything the driving thread may hold. */
typedef void (*sched_wake_fn)(void *ctx);
/* A source of new jobs (a batch's claim cursor): the next one, or NULL when there is none left. */
typedef codat_job *(*sched_claim_fn)(void *ctx);

codat_sched *sched_new(codat_client *c, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx);
/* Reuses a scheduler from the client's pool for another call: new limits and callbacks, no pause, no
 * source. It must be idle. */
void sched_configure(codat_sched *s, int concurrency, sched_done_fn done, sched_wake_fn wake, void *ctx);
/* New jobs come from claim (called only while fewer than `concurrency` run); a pause met by this scheduler
 * is also raised in *shared_pause (ms, an atomic maximum shared by a batch's threads) and one raised there
 * holds this scheduler back too. Either may be NULL. */
void sched_set_source(codat_sched *s, sched_claim_fn claim, void *claim_ctx, _Atomic double *shared_pause);
void sched_free(codat_sched *s);               /* after sched_abort_all (or once idle) */
CURLM *sched_multi(codat_sched *s);
void sched_add(codat_sched *s, codat_job *job, double now_ms);  /* queued, FIFO */
/* Starts queued and due jobs while fewer than `concurrency` run, no pause holds them and their company has
 * a slot (else the job joins that company's wait list). Returns ms until the next due time (a retry, a
 * pause's end), or -1 when nothing waits on time. */
double sched_start_due(codat_sched *s, double now_ms);
/* Reads libcurl's finished transfers, judges each attempt and applies the verdict. Returns how many
 * attempts ended (the driver plans again before it waits when some did). now_ms < 0: the clock is read
 * when the first ended attempt is found (most calls after a perform find none). */
int sched_collect(codat_sched *s, double now_ms);
/* Ends the job with that id (async calls), whatever it is doing; done() runs. Unknown ids are ignored. */
void sched_cancel(codat_sched *s, unsigned long long id, codat_outcome outcome, const char *message);
void sched_abort_all(codat_sched *s, codat_outcome outcome, const char *message);
int sched_idle(const codat_sched *s);          /* nothing queued, running or waiting */
int sched_running(const codat_sched *s);       /* attempts in flight */
int sched_slot_waiting(const codat_sched *s);  /* jobs in a company's wait list (granted or not yet taken) */

/* A job for one company and endpoint with the client's settings and the call's overrides (attempt.h's
 * job_prepare); 0, or -1 when out of memory (job_release still frees what was made). */
int job_init(codat_job *job, codat_client *c, codat_endpoint which, const char *company_id,
             const codat_call_opts *opts, codat_result *out);
/* The same job on the heap with a result of its own, for a call that outlives its caller's stack (an async
 * call, an await): NULL when out of memory. Whoever completes it takes job->out and frees the job with
 * job_release + free; one that never ran goes to job_free. */
codat_job *job_new(codat_client *c, codat_endpoint which, const char *company_id, const codat_call_opts *opts);
/* A job_new job that was never handed to a scheduler: its request, its unused result and itself. */
void job_free(codat_job *job);

#endif
