/* client_base.c: what every path of a client shares below the public calls: process-wide setup, fork
 * safety, the share handle, the pool of schedulers and the client's destruction. */
#include <stdlib.h>
#include <string.h>
#include "client.h"
#include "sched.h"

/* ---- process-wide state ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_init_rc = -1;
/* Bumped in a forked child: every client compares it with its own generation before touching its
 * handles, and abandons them (without closing the parent's connections) when they differ. */
static volatile unsigned fork_generation_counter = 0;

static void on_fork_child(void)
{
    fork_generation_counter++;
}

static void global_init_once(void)
{
    global_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
    pthread_atfork(NULL, NULL, on_fork_child);
}

int codat_global_init(void)
{
    pthread_once(&global_once, global_init_once);
    return global_init_rc;
}

unsigned codat_fork_generation(void)
{
    return fork_generation_counter;
}

/* ---- share handle: DNS cache and TLS sessions, never live connections ---- */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *userptr)
{
    (void)h;
    (void)access;
    codat_client *c = userptr;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *userptr)
{
    (void)h;
    codat_client *c = userptr;
    pthread_mutex_unlock(&c->share_locks[data]);
}

int client_share_setup(codat_client *c)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    CURLSH *share = curl_share_init();
    c->net.share = share;
    if (!share)
        return -1;
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return 0;
}

/* ---- fork ---- */

/* In a forked child the parent's handles hold the parent's sockets and TLS state, and the client's mutexes
 * may have been held by a thread that does not exist here. Start over: fresh locks and share handle; the
 * old handles are dropped without cleanup, since cleanup would talk on the parent's connections. */
static void after_fork_reset(codat_client *c)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->close_lock, NULL);
    /* The parent's counts and wait lists are for requests of threads the child does not have; the table
     * may even have been mid-update in one of them. Start empty (the parent's copy is leaked like its
     * handles). */
    company_slots_init(&c->slots, c->slots.limit);
    rate_limit_box_init(&c->rate);
    c->n_idle_scheds = 0;
    c->io_started = 0;
    c->io_sched = NULL;
    c->io_incoming = NULL;
    c->io_stop = 0;
    c->io_joining = c->io_detached = c->io_free_pending = 0;
    c->io_cancels = NULL; /* the parent's array is leaked like its handles */
    c->io_n_cancels = c->io_cap_cancels = 0;
    client_share_setup(c);
    c->fork_generation = codat_fork_generation();
}

void client_check_fork(codat_client *c)
{
    if (c->fork_generation != codat_fork_generation())
        after_fork_reset(c);
}

/* ---- the pool of schedulers ---- */

codat_sched *client_sched_acquire(codat_client *c, int concurrency, void (*done)(void *, codat_job *), void *ctx)
{
    client_check_fork(c);
    pthread_mutex_lock(&c->lock);
    codat_sched *s = c->n_idle_scheds > 0 ? c->idle_scheds[--c->n_idle_scheds] : NULL;
    pthread_mutex_unlock(&c->lock);
    if (!s)
        return sched_new(c, concurrency, done, NULL, ctx);
    sched_configure(s, concurrency, done, NULL, ctx);
    return s;
}

void client_sched_release(codat_client *c, codat_sched *s)
{
    if (c->fork_generation != codat_fork_generation())
        return; /* forked mid-call: this scheduler belongs to the parent */
    pthread_mutex_lock(&c->lock);
    if (!c->closed && c->n_idle_scheds < CODAT_MAX_IDLE_SCHEDS) {
        c->idle_scheds[c->n_idle_scheds++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    sched_free(s);
}

void client_sched_drain(codat_client *c)
{
    codat_sched *idle[CODAT_MAX_IDLE_SCHEDS];
    pthread_mutex_lock(&c->lock);
    int n = c->n_idle_scheds;
    memcpy(idle, c->idle_scheds, (size_t)n * sizeof *idle);
    c->n_idle_scheds = 0;
    pthread_mutex_unlock(&c->lock);
    for (int i = 0; i < n; i++)
        sched_free(idle[i]);
}

/* ---- event-loop drivers' holds ---- */

void client_hold(codat_client *c)
{
    client_check_fork(c);
    pthread_mutex_lock(&c->lock);
    c->evloop_holds++;
    pthread_mutex_unlock(&c->lock);
}

void client_unhold(codat_client *c)
{
    client_check_fork(c);
    pthread_mutex_lock(&c->lock);
    int free_client = --c->evloop_holds == 0 && c->io_free_pending && !c->io_started;
    pthread_mutex_unlock(&c->lock);
    if (free_client)
        client_destroy(c);
}

/* ---- the end ---- */

static void wipe_free(char *secret)
{
    if (secret) {
        memset(secret, 0, strlen(secret));
        free(secret);
    }
}

void client_destroy(codat_client *c)
{
    if (c->fork_generation == codat_fork_generation()) {
        if (c->net.share)
            curl_share_cleanup(c->net.share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->share_locks[i]);
        pthread_mutex_destroy(&c->lock);
        pthread_mutex_destroy(&c->close_lock);
        company_slots_destroy(&c->slots);
        rate_limit_box_destroy(&c->rate);
    }
    /* else: a forked child freeing a parent's client: leak the handles rather than touch them. */
    curl_slist_free_all(c->net.base_headers);
    codat_secrets_free(&c->net.secrets);
    free(c->net.server_url);
    wipe_free(c->auth_header);
    free(c->net.ca_bundle);
    free(c->net.ca_dir);
    free(c->user_agent);
    free(c->net.proxy_http);
    free(c->net.proxy_https);
    free(c->net.no_proxy);
    free(c->io_cancels);
    free(c);
}
