/* test_sched.c: the scheduler's bookkeeping (csrc/core/sched.c) over real transfers to a real HTTP server
 * on 127.0.0.1 (tiny_server.h): admission up to the concurrency, per-company slot waits in FIFO order, a
 * retry verdict re-queued at its time, a 429's pause, cancel by id wherever the job is, abort_all ending
 * every job once, and sched_start_due's answer of when the next thing is due. The scheduler takes the
 * time as an argument, so due times are checked exactly, without sleeping through them; job_new/job_free
 * (the heap jobs of async calls and awaits) are checked here too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codat.h"
#include "sched.h"
#include "tiny_server.h"
#include "tinytest.h"

static tiny_server srv;

/* ---- what the scheduler handed back ---- */

#define MAX_IDS 32
static int done_count[MAX_IDS];
static codat_outcome done_outcome[MAX_IDS];
static int done_attempts[MAX_IDS];
static char done_message[MAX_IDS][256];
static int done_order[4 * MAX_IDS];
static int n_done;

static void reset_done(void)
{
    memset(done_count, 0, sizeof done_count);
    memset(done_order, 0, sizeof done_order);
    n_done = 0;
}

/* As io_thread.c and evloop.c complete a job_new job: the result is taken, the job freed. */
static void on_done(void *ctx, codat_job *job)
{
    (void)ctx;
    codat_result *r = job->out;
    unsigned long long id = job->id;
    job_release(job);
    free(job);
    if (id < MAX_IDS) {
        done_count[id]++;
        done_outcome[id] = r->outcome;
        done_attempts[id] = r->attempts;
        snprintf(done_message[id], sizeof done_message[id], "%s", r->message);
    }
    if (n_done < 4 * MAX_IDS)
        done_order[n_done++] = (int)id;
    codat_result_clear(r);
    free(r);
}

/* ---- a client, a scheduler and their jobs ---- */

static codat_client *client_with_limit(unsigned company_limit)
{
    codat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.server_url = srv.url;
    cfg.auth_header = "Basic dGVzdA==";
    cfg.user_agent = "test_sched";
    cfg.timeout_ms = 10000;
    codat_retry_defaults(&cfg.retry); /* 500 ms first wait, 408/429/5XX retried */
    cfg.company_limit = company_limit;
    char err[128] = "";
    codat_client *c = codat_client_new(&cfg, err, sizeof err);
    TT_CHECK_MSG(c != NULL, "codat_client_new: %s", err);
    return c;
}

static void client_done(codat_client *c, codat_sched *s)
{
    sched_free(s); /* before the client: its easy handles use the client's share handle */
    codat_client_close(c);
    codat_client_free(c);
}

static codat_job *add(codat_sched *s, codat_client *c, const char *company, unsigned long long id)
{
    codat_job *job = job_new(c, CODAT_EP_COMPANY, company, NULL);
    TT_CHECK(job != NULL);
    job->id = id;
    sched_add(s, job, codat_now_ms());
    return job;
}

static int max_running;

/* Drives s for ms milliseconds of real time, or until job id is done (id 0: until the scheduler is idle),
 * as the I/O thread does: start what is due, perform, collect, poll. Notes the most attempts seen running. */
static void pump(codat_sched *s, double ms, unsigned long long id)
{
    double end = codat_now_ms() + ms;
    while (codat_now_ms() < end && !(id ? id < MAX_IDS && done_count[id] : sched_idle(s))) {
        sched_start_due(s, codat_now_ms());
        if (sched_running(s) > max_running)
            max_running = sched_running(s);
        int still = 0;
        curl_multi_perform(sched_multi(s), &still);
        sched_collect(s, codat_now_ms());
        curl_multi_poll(sched_multi(s), NULL, 0, 5, NULL);
    }
}

/* Drives s until its attempts have all ended (none running), at most 5 s. */
static void pump_until_none_run(codat_sched *s)
{
    double end = codat_now_ms() + 5000;
    while (sched_running(s) > 0 && codat_now_ms() < end) {
        int still = 0;
        curl_multi_perform(sched_multi(s), &still);
        sched_collect(s, codat_now_ms());
        curl_multi_poll(sched_multi(s), NULL, 0, 5, NULL);
    }
    TT_EQ_LONG(sched_running(s), 0);
}

static int path_count(const char *company)
{
    char part[96];
    snprintf(part, sizeof part, "/companies/%s/", company);
    return tiny_server_count(&srv, part);
}

static int path_first(const char *company)
{
    char part[96];
    snprintf(part, sizeof part, "/companies/%s/", company);
    return tiny_server_first(&srv, part);
}

/* ---- tests ---- */

TT_TEST(job_new_makes_a_job_with_a_result_of_its_own)
{
    codat_client *c = client_with_limit(0);
    codat_call_opts opts;
    codat_call_opts_init(&opts);
    opts.timeout_ms = 1234;
    codat_job *job = job_new(c, CODAT_EP_CONNECTION_MANAGEMENT, "acme", &opts);
    TT_CHECK(job != NULL && job->out != NULL);
    TT_EQ_LONG(job->out->endpoint, CODAT_EP_CONNECTION_MANAGEMENT);
    TT_EQ_LONG(job->out->outcome, CODAT_OK);
    TT_EQ_DBL(job->out->retry_after_s, -1);
    TT_EQ_LONG(job->timeout_ms, 1234);
    TT_EQ_LONG(job->id, 0);
    TT_CHECK(strstr(job->url, "/companies/acme/connectionManagement/accessToken") != NULL);
    job_free(job); /* never ran: valgrind and ASan see that the job, its request and its result are freed */
    codat_client_close(c);
    codat_client_free(c);
}

TT_TEST(starts_no_more_than_the_concurrency)
{
    codat_client *c = client_with_limit(0);
    codat_sched *s = sched_new(c, 2, on_done, NULL, NULL);
    reset_done();
    max_running = 0;
    add(s, c, "hold-adm-1", 1);
    add(s, c, "hold-adm-2", 2);
    add(s, c, "adm-3", 3);
    add(s, c, "adm-4", 4);
    TT_EQ_DBL(sched_start_due(s, codat_now_ms()), -1); /* nothing waits on time */
    TT_EQ_LONG(sched_running(s), 2);
    double end = codat_now_ms() + 5000; /* until both held requests have reached the server */
    while (path_count("hold-adm-1") + path_count("hold-adm-2") < 2 && codat_now_ms() < end)
        pump(s, 20, 0);
    pump(s, 100, 0); /* and a little longer, for a third that should not come */
    TT_EQ_LONG(n_done, 0);
    TT_EQ_LONG(path_count("hold-adm-1") + path_count("hold-adm-2"), 2);
    TT_EQ_LONG(path_count("adm-3") + path_count("adm-4"), 0); /* queued: no room */
    sched_cancel(s, 1, CODAT_CANCELLED, "cancelled"); /* one place frees: the older of the queued goes */
    pump(s, 5000, 4);
    TT_EQ_LONG(done_count[3], 1);
    TT_EQ_LONG(done_outcome[3], CODAT_OK);
    TT_EQ_LONG(done_count[4], 1);
    TT_EQ_LONG(done_outcome[4], CODAT_OK);
    TT_CHECK(path_first("adm-3") < path_first("adm-4")); /* FIFO */
    TT_EQ_LONG(max_running, 2);
    sched_abort_all(s, CODAT_CANCELLED, "cancelled");
    TT_EQ_LONG(done_count[2], 1);
    TT_CHECK(sched_idle(s));
    client_done(c, s);
}

TT_TEST(company_slot_waits_are_first_come_first_served)
{
    codat_client *c = client_with_limit(1);
    codat_sched *s = sched_new(c, 10, on_done, NULL, NULL);
    reset_done();
    for (unsigned long long id = 1; id <= 4; id++)
        add(s, c, "fifo", id);
    add(s, c, "fifo-other", 5);
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_running(s), 2); /* fifo's first, and the other company's: not held up */
    TT_EQ_LONG(sched_slot_waiting(s), 3);
    /* until all five are done: the other company's answer may come last (its server thread can be held up
     * on a busy machine, as it was once in CI), and nothing orders it against fifo's */
    pump(s, 5000, 0);
    TT_EQ_LONG(n_done, 5);
    int order[4], k = 0;
    for (int i = 0; i < n_done; i++)
        if (done_order[i] != 5 && k < 4)
            order[k++] = done_order[i];
    TT_EQ_LONG(k, 4);
    for (int i = 0; i < k; i++) {
        TT_EQ_LONG(order[i], i + 1); /* each waiter got the slot in the order it asked */
        TT_EQ_LONG(done_outcome[i + 1], CODAT_OK);
    }
    TT_EQ_LONG(path_count("fifo"), 4);
    TT_CHECK(sched_idle(s));
    client_done(c, s);
}

TT_TEST(a_retry_is_requeued_at_its_time)
{
    codat_client *c = client_with_limit(0);
    codat_sched *s = sched_new(c, 4, on_done, NULL, NULL);
    reset_done();
    codat_job *job = add(s, c, "flaky-retry", 1);
    sched_start_due(s, codat_now_ms());
    pump_until_none_run(s); /* the 503 came: the verdict is a retry, the job waits in the timed list */
    TT_EQ_LONG(n_done, 0);
    TT_CHECK(!sched_idle(s));
    TT_EQ_LONG(sched_slot_waiting(s), 0);
    TT_EQ_LONG(job->retries_done, 1);
    double t0 = codat_now_ms();
    double due = sched_start_due(s, t0);
    TT_NEAR_DBL(due, job->next_at_ms - t0, 1e-6);
    TT_CHECK_MSG(due > 0 && due < 500, "due in %g ms: the first wait is drawn in [250, 500)", due);
    TT_EQ_LONG(sched_running(s), 0); /* not before its time */
    TT_NEAR_DBL(sched_start_due(s, t0 + due - 0.5), 0.5, 1e-6);
    TT_EQ_LONG(sched_running(s), 0);
    TT_EQ_DBL(sched_start_due(s, t0 + due + 0.5), -1); /* started, nothing else waits on time */
    TT_EQ_LONG(sched_running(s), 1);
    pump(s, 5000, 1);
    TT_EQ_LONG(done_count[1], 1);
    TT_EQ_LONG(done_outcome[1], CODAT_OK);
    TT_EQ_LONG(done_attempts[1], 2);
    TT_EQ_LONG(path_count("flaky-retry"), 2);
    client_done(c, s);
}

TT_TEST(start_due_answers_the_earliest_due_time)
{
    codat_client *c = client_with_limit(0);
    codat_sched *s = sched_new(c, 4, on_done, NULL, NULL);
    reset_done();
    TT_EQ_DBL(sched_start_due(s, codat_now_ms()), -1); /* empty */
    codat_job *a = add(s, c, "flaky-due-a", 1);
    codat_job *b = add(s, c, "flaky-due-b", 2);
    sched_start_due(s, codat_now_ms());
    pump_until_none_run(s);
    double first = a->next_at_ms < b->next_at_ms ? a->next_at_ms : b->next_at_ms;
    double second = a->next_at_ms < b->next_at_ms ? b->next_at_ms : a->next_at_ms;
    double t0 = codat_now_ms();
    TT_NEAR_DBL(sched_start_due(s, t0), first - t0, 1e-6);
    if (second > first) {
        /* between the two: the first starts, and the answer is then the second's time */
        double mid = first + (second - first) / 2;
        TT_NEAR_DBL(sched_start_due(s, mid), second - mid, 1e-6);
        TT_EQ_LONG(sched_running(s), 1);
    }
    TT_EQ_DBL(sched_start_due(s, second + 0.25), -1);
    TT_EQ_LONG(sched_running(s), 2);
    pump(s, 5000, 0);
    TT_EQ_LONG(done_count[1] + done_count[2], 2);
    TT_EQ_LONG(done_outcome[1], CODAT_OK);
    TT_EQ_LONG(done_outcome[2], CODAT_OK);
    client_done(c, s);
}

TT_TEST(a_429_with_retry_after_pauses_every_start)
{
    codat_client *c = client_with_limit(0);
    codat_sched *s = sched_new(c, 4, on_done, NULL, NULL);
    reset_done();
    codat_job *busy = add(s, c, "busy429-pause", 1);
    sched_start_due(s, codat_now_ms());
    pump_until_none_run(s);
    double until = busy->next_at_ms; /* Retry-After: 2 is the floor of the wait, and the pause's end */
    add(s, c, "after-pause", 2);
    double t0 = codat_now_ms();
    double due = sched_start_due(s, t0);
    TT_NEAR_DBL(due, until - t0, 1e-6);
    TT_CHECK_MSG(due > 1500 && due <= 2000, "paused for %g ms, Retry-After said 2 s", due);
    TT_EQ_LONG(sched_running(s), 0); /* a new job of another company waits too */
    TT_EQ_DBL(sched_start_due(s, until + 0.25), -1);
    TT_EQ_LONG(sched_running(s), 2);
    pump(s, 5000, 0);
    TT_EQ_LONG(done_outcome[1], CODAT_OK);
    TT_EQ_LONG(done_attempts[1], 2);
    TT_EQ_LONG(done_outcome[2], CODAT_OK);
    client_done(c, s);
}

TT_TEST(cancel_by_id_ends_that_job_wherever_it_is)
{
    codat_client *c = client_with_limit(1);
    codat_sched *s = sched_new(c, 3, on_done, NULL, NULL);
    reset_done();
    add(s, c, "hold-cx", 1);      /* runs, holding hold-cx's one slot */
    add(s, c, "hold-cx", 2);      /* waits for that slot */
    add(s, c, "hold-cy", 3);      /* runs */
    add(s, c, "hold-cz", 4);      /* runs */
    add(s, c, "cw", 5);           /* queued: no room */
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_running(s), 3);
    TT_EQ_LONG(sched_slot_waiting(s), 1);
    sched_cancel(s, 999, CODAT_CANCELLED, "cancelled"); /* unknown: ignored */
    TT_EQ_LONG(n_done, 0);
    sched_cancel(s, 5, CODAT_CANCELLED, "cancelled"); /* queued */
    TT_EQ_LONG(done_count[5], 1);
    TT_EQ_LONG(done_outcome[5], CODAT_CANCELLED);
    TT_EQ_STR(done_message[5], "cancelled");
    TT_EQ_LONG(path_count("cw"), 0);
    sched_cancel(s, 2, CODAT_CANCELLED, "cancelled"); /* waiting for a slot */
    TT_EQ_LONG(done_count[2], 1);
    TT_EQ_LONG(sched_slot_waiting(s), 0);
    sched_cancel(s, 3, CODAT_CANCELLED, "cancelled"); /* running */
    TT_EQ_LONG(done_count[3], 1);
    TT_EQ_LONG(done_outcome[3], CODAT_CANCELLED);
    TT_EQ_LONG(sched_running(s), 2);
    sched_cancel(s, 3, CODAT_CANCELLED, "cancelled"); /* gone already: ignored */
    TT_EQ_LONG(done_count[3], 1);
    add(s, c, "flaky-cancel", 6);  /* a retry waiting for its time */
    sched_start_due(s, codat_now_ms());
    double end = codat_now_ms() + 5000;
    while (path_count("flaky-cancel") == 0 || sched_running(s) > 2) {
        if (codat_now_ms() > end)
            break;
        int still = 0;
        curl_multi_perform(sched_multi(s), &still);
        sched_collect(s, codat_now_ms());
        curl_multi_poll(sched_multi(s), NULL, 0, 5, NULL);
    }
    TT_EQ_LONG(sched_running(s), 2);
    TT_EQ_LONG(done_count[6], 0);
    sched_cancel(s, 6, CODAT_CANCELLED, "cancelled");
    TT_EQ_LONG(done_count[6], 1);
    TT_EQ_LONG(done_outcome[6], CODAT_CANCELLED);
    pump(s, 600, 0); /* past any first retry's time (< 500 ms): none is sent */
    TT_EQ_LONG(path_count("flaky-cancel"), 1);
    TT_EQ_LONG(done_count[6], 1);
    /* A waiter granted the slot, then cancelled before it started, passes the slot on. */
    add(s, c, "hold-cx", 7);
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_slot_waiting(s), 1);
    sched_cancel(s, 1, CODAT_CANCELLED, "cancelled"); /* its slot goes to 7 */
    sched_cancel(s, 7, CODAT_CANCELLED, "cancelled"); /* which gives it back */
    add(s, c, "hold-cx", 8);
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_slot_waiting(s), 0); /* it got the slot at once */
    TT_EQ_LONG(sched_running(s), 2);      /* 4 and 8 */
    sched_abort_all(s, CODAT_CANCELLED, "cancelled");
    for (int id = 1; id <= 8; id++)
        TT_CHECK_MSG(done_count[id] == 1, "job %d was done %d times", id, done_count[id]);
    client_done(c, s);
}

TT_TEST(abort_all_ends_every_job_once)
{
    codat_client *c = client_with_limit(1);
    codat_sched *s = sched_new(c, 2, on_done, NULL, NULL);
    reset_done();
    add(s, c, "flaky-abort", 1);
    sched_start_due(s, codat_now_ms());
    pump_until_none_run(s);             /* 1: a retry waiting for its time */
    add(s, c, "hold-aa", 2);            /* running */
    add(s, c, "hold-aa", 3);            /* waiting for hold-aa's slot */
    add(s, c, "hold-ab", 4);            /* running */
    add(s, c, "ac", 5);                 /* queued: no room */
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_running(s), 2);
    TT_EQ_LONG(sched_slot_waiting(s), 1);
    TT_EQ_LONG(n_done, 0);
    sched_abort_all(s, CODAT_BAD_INPUT, "client is closed");
    TT_EQ_LONG(n_done, 5);
    for (int id = 1; id <= 5; id++) {
        TT_CHECK_MSG(done_count[id] == 1, "job %d was done %d times", id, done_count[id]);
        TT_EQ_LONG(done_outcome[id], CODAT_BAD_INPUT);
        TT_EQ_STR(done_message[id], "client is closed");
    }
    TT_CHECK(sched_idle(s));
    TT_EQ_LONG(sched_running(s), 0);
    TT_EQ_LONG(sched_slot_waiting(s), 0);
    add(s, c, "hold-aa", 6); /* every slot was given back: the company's next job starts at once */
    sched_start_due(s, codat_now_ms());
    TT_EQ_LONG(sched_running(s), 1);
    TT_EQ_LONG(sched_slot_waiting(s), 0);
    sched_abort_all(s, CODAT_BAD_INPUT, "client is closed");
    TT_EQ_LONG(done_count[6], 1);
    TT_EQ_LONG(n_done, 6);
    client_done(c, s);
}

int main(void)
{
    if (codat_global_init() != 0 || tiny_server_start(&srv) != 0) {
        printf("could not set up libcurl or the server\n0 passed, 1 failed\n");
        return 1;
    }
    TT_RUN(job_new_makes_a_job_with_a_result_of_its_own);
    TT_RUN(starts_no_more_than_the_concurrency);
    TT_RUN(company_slot_waits_are_first_come_first_served);
    TT_RUN(a_retry_is_requeued_at_its_time);
    TT_RUN(start_due_answers_the_earliest_due_time);
    TT_RUN(a_429_with_retry_after_pauses_every_start);
    TT_RUN(cancel_by_id_ends_that_job_wherever_it_is);
    TT_RUN(abort_all_ends_every_job_once);
    tiny_server_stop(&srv);
    return tt_summary();
}
