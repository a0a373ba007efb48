/* client.c: the client's public life cycle: made (settings read once, the proxies from the environment),
 * closed, freed; its rate-limit figures; the call options (a result's life cycle is attempt.c's, which
 * fills results). The calls themselves are in batch.c (blocking calls and batches) and io_thread.c
 * (asynchronous calls). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include "client.h"
#include "sched.h"

void codat_client_rate_limit(codat_client *c, codat_rate_limit *out)
{
    client_check_fork(c);
    rate_limit_read(&c->rate, out);
}

/* ---- the client ---- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

void codat_call_opts_init(codat_call_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->timeout_ms = -1;
}

/* Proxies come from the environment, as with libcurl's own lookup and with httpx: the same variables,
 * read once here rather than by libcurl on every transfer (five getenv scans of the whole environment,
 * about 2 % of a transfer's CPU). Like httpx, a client sees the environment it was made in. */
static char *env_first(const char *name, const char *upper)
{
    const char *v = getenv(name);
    if (!v && upper)
        v = getenv(upper);
    return strdup(v ? v : "");
}

static char *env_proxy(const char *scheme)
{
    char lower[16], upper[16];
    snprintf(lower, sizeof lower, "%s_proxy", scheme);
    size_t i = 0;
    for (; lower[i]; i++) /* up to the NUL: the bytes after it were never written */
        upper[i] = (char)toupper((unsigned char)lower[i]);
    upper[i] = '\0';
    /* HTTP_PROXY is ignored, as libcurl and the CGI-safe convention ("httpoxy") have it */
    const char *v = getenv(lower);
    if (!v && strcmp(scheme, "http") != 0)
        v = getenv(upper);
    if (!v)
        return env_first("all_proxy", "ALL_PROXY");
    return strdup(v);
}

/* Appends "name: value" to the client's base headers. Returns 0, or -1 when out of memory. */
static int add_base_header(codat_client *c, const char *name, const char *value)
{
    size_t n = strlen(name) + 2 + strlen(value) + 1;
    char *line = malloc(n);
    if (!line)
        return -1;
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *h = curl_slist_append(c->net.base_headers, line);
    /* the Authorization line holds the secret: wipe our copy (curl_slist_append made its own) */
    memset(line, 0, n);
    free(line);
    if (!h)
        return -1;
    c->net.base_headers = h;
    return 0;
}

codat_client *codat_client_new(const codat_config *cfg, char *err, size_t errlen)
{
    if (codat_global_init() != 0) {
        set_err(err, errlen, "libcurl failed to initialise");
        return NULL;
    }
    if (!cfg->server_url || codat_check_server_url(cfg->server_url, err, errlen) != 0)
        return NULL;
    codat_client *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->close_lock, NULL);
    company_slots_init(&c->slots, cfg->company_limit ? cfg->company_limit : CODAT_COMPANY_LIMIT);
    rate_limit_box_init(&c->rate);
    c->fork_generation = codat_fork_generation();
    c->net.server_url = strdup(cfg->server_url);
    c->auth_header = dup_or_null(cfg->auth_header);
    c->net.ca_bundle = dup_or_null(cfg->ca_bundle);
    c->net.ca_dir = dup_or_null(cfg->ca_dir);
    c->user_agent = strdup(cfg->user_agent ? cfg->user_agent : "codat-platform-c");
    c->net.proxy_http = env_proxy("http");
    c->net.proxy_https = env_proxy("https");
    c->net.no_proxy = env_first("no_proxy", "NO_PROXY");
    c->net.verify = cfg->verify;
    c->net.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 0;
    c->net.max_body = cfg->max_body_bytes ? cfg->max_body_bytes : CODAT_DEFAULT_MAX_BODY;
    c->net.retry = cfg->retry;
    int ok = c->net.server_url && c->user_agent && c->net.proxy_http && c->net.proxy_https && c->net.no_proxy &&
             (!cfg->auth_header || c->auth_header) && (!cfg->ca_bundle || c->net.ca_bundle) &&
             (!cfg->ca_dir || c->net.ca_dir) && client_share_setup(c) == 0;
    /* Every request's headers. The User-Agent goes here rather than in CURLOPT_USERAGENT, which libcurl
     * formats anew for each request. */
    if (ok && cfg->auth_header)
        ok = add_base_header(c, "Authorization", cfg->auth_header) == 0 &&
             codat_secrets_add_authorization(&c->net.secrets, cfg->auth_header, strlen(cfg->auth_header)) == 0;
    /* A proxy's credentials travel as Proxy-Authorization: a proxy's error page may echo them. */
    if (ok)
        ok = codat_secrets_add_url_userinfo(&c->net.secrets, c->net.proxy_http) == 0 &&
             codat_secrets_add_url_userinfo(&c->net.secrets, c->net.proxy_https) == 0;
    if (ok)
        ok = add_base_header(c, "Accept", "application/json") == 0;
    if (ok)
        ok = add_base_header(c, "User-Agent", c->user_agent) == 0;
    if (!ok) {
        set_err(err, errlen, "out of memory");
        codat_client_free(c);
        return NULL;
    }
    return c;
}

int codat_client_is_closed(const codat_client *c)
{
    return c->closed;
}

/* Whether the calling thread is c's I/O thread: code it calls back (a Python finalizer, the last
 * reference to the client dropped by a completion) may close or free the client from there. */
static int on_io_thread(codat_client *c)
{
    pthread_mutex_lock(&c->lock);
    int mine = c->io_started && pthread_equal(pthread_self(), c->io_thread);
    pthread_mutex_unlock(&c->lock);
    return mine;
}

/* closed and io_stop are set together, under the lock that every submission takes to check closed: once
 * the I/O thread sees io_stop it has also seen every call that will ever be submitted, so none can be
 * stranded in the queue. The wakeup is sent under that lock too, so the scheduler it goes through cannot be
 * freed meanwhile. The I/O thread cannot join itself: closed from there, it is left to end on its own
 * (detached); from any other thread, close() waits for it to end. */
void codat_client_close(codat_client *c)
{
    client_check_fork(c);
    int own_thread = on_io_thread(c);
    if (!own_thread)
        pthread_mutex_lock(&c->close_lock); /* a second close() returns only once the first is done */
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    int join = 0;
    pthread_t thread;
    if (c->io_started) {
        c->io_stop = 1;
        if (c->io_sched)
            curl_multi_wakeup(sched_multi(c->io_sched));
        if (own_thread) {
            if (!c->io_joining)
                c->io_detached = 1;
        } else if (!c->io_detached && !c->io_joining) {
            c->io_joining = 1;
            join = 1;
            thread = c->io_thread;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (join) {
        pthread_join(thread, NULL); /* the thread freed its scheduler as it ended */
        pthread_mutex_lock(&c->lock);
        c->io_started = 0;
        c->io_joining = 0;
        pthread_mutex_unlock(&c->lock);
    }
    if (!own_thread)
        pthread_mutex_unlock(&c->close_lock);
    client_sched_drain(c); /* closed is set: no scheduler joins the pool from here on */
}

void codat_client_free(codat_client *c)
{
    if (!c)
        return;
    if (c->fork_generation == codat_fork_generation()) {
        codat_client_close(c);
        /* After close only a detached I/O thread can still be running (the client was closed or freed
         * from that thread itself), and event-loop drivers may still hold the client: the last of them
         * frees it. */
        pthread_mutex_lock(&c->lock);
        int handed_over = c->io_started || c->evloop_holds > 0;
        if (handed_over)
            c->io_free_pending = 1;
        pthread_mutex_unlock(&c->lock);
        if (handed_over)
            return;
    }
    client_destroy(c);
}

