/* attempt.c: see attempt.h. The libcurl callbacks, the credentials to redact, the job's request, each
 * attempt on an easy handle, the facts it left, and the call's result. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <time.h>
#include <stdarg.h>
#include "attempt.h"
#include "backoff.h"
#include "classify.h"
#include "url.h"

/* ---- libcurl callbacks (they run inside curl_multi_perform, on the calling thread, no GIL) ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    codat_job *job = userdata;
    size_t n = size * nmemb;
    if (job->body.len + n > job->max_body) {
        job->body_too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return growbuf_append(&job->body, data, n) == 0 ? n : 0;
}

/* Header value after "Name:", trimmed, copied into buf. */
static void header_value(const char *line, size_t n, size_t name_len, char *buf, size_t buflen)
{
    const char *v = line + name_len;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= buflen)
        len = buflen - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
}

static int header_is(const char *line, size_t n, const char *name, size_t name_len)
{
    return n > name_len && strncasecmp(line, name, name_len) == 0;
}

static long parse_long_or(const char *s, long fallback)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (end != s && *end == '\0') ? v : fallback;
}

/* ---- secrets ---- */

static int add_authorizations(codat_secrets *s, const struct curl_slist *h)
{
    static const char *const names[] = {"Authorization:", "Proxy-Authorization:"};
    int rc = 0;
    for (; h; h = h->next)
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            size_t n = strlen(names[i]);
            if (strncasecmp(h->data, names[i], n) == 0)
                rc |= codat_secrets_add_authorization(s, h->data + n, strlen(h->data + n));
        }
    return rc;
}

/* Every credential this job could have sent: the client's Authorization and any the call passed in
 * http_headers (the SDK facade's security= callable arrives that way), with what each gives away
 * (redact.h). A call without headers of its own uses the client's list, made once with the client; one
 * with headers builds its own on the first answer that needs it. NULL when out of memory: the caller then
 * shows nothing of the answer. */
static const codat_secrets *job_secrets(codat_job *job)
{
    if (!job->headers)
        return job->client_secrets;
    if (job->secrets_state == 0) {
        codat_secrets_init(&job->secrets);
        int rc = add_authorizations(&job->secrets, job->headers);
        rc |= add_authorizations(&job->secrets, job->base_headers);
        job->secrets_state = rc ? -1 : 1;
    }
    return job->secrets_state > 0 ? &job->secrets : NULL;
}

/* X-Rate-Limit-Reset feeds client.rate_limit: kept only when it holds no secret (looked for in the whole
 * value, before any truncation could cut a secret short of a match), and cut to the buffer at a character
 * boundary with broken UTF-8 repaired, so that the attribute always decodes. */
static void keep_rate_limit_reset(codat_job *job, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    const codat_secrets *secrets = job_secrets(job);
    if (!secrets || codat_holds_secret(v, n, secrets)) {
        snprintf(job->rl_reset, sizeof job->rl_reset, "[REDACTED]");
        return;
    }
    codat_utf8_repair(v, n, job->rl_reset, sizeof job->rl_reset);
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    codat_job *job = userdata;
    size_t n = size * nmemb;
    char value[128];
    if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        /* A new response starts (after a 1XX, or on a fresh connection): forget the previous one's. */
        job->hdrs.len = 0;
        job->retry_after_s = -1;
        job->rl_limit = job->rl_remaining = -1;
        job->rl_reset[0] = '\0';
    } else if (header_is(line, n, "retry-after:", 12)) {
        header_value(line, n, 12, value, sizeof value);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now); /* with fractions: an HTTP date is whole seconds */
        job->retry_after_s = codat_parse_retry_after(value, (double)now.tv_sec + (double)now.tv_nsec / 1e9);
    } else if (header_is(line, n, "x-rate-limit-limit:", 19)) {
        header_value(line, n, 19, value, sizeof value);
        job->rl_limit = parse_long_or(value, -1);
    } else if (header_is(line, n, "x-rate-limit-remaining:", 23)) {
        header_value(line, n, 23, value, sizeof value);
        job->rl_remaining = parse_long_or(value, -1);
    } else if (header_is(line, n, "x-rate-limit-reset:", 19)) {
        keep_rate_limit_reset(job, line + 19, n - 19);
    }
    /* The header block is kept for SDKError.headers; cap it like the body (and report it the same way: a
     * response over max_body_bytes is an SDKError, not a transport failure). */
    if (job->hdrs.len + n > job->max_body) {
        job->body_too_large = 1;
        job->headers_too_large = 1;
        return 0;
    }
    return growbuf_append(&job->hdrs, line, n) == 0 ? n : 0;
}

/* ---- the job ---- */

int job_prepare(codat_job *job, const attempt_settings *c, codat_endpoint which, const char *company_id,
                const codat_call_opts *opts, codat_result *out)
{
    memset(job, 0, sizeof *job);
    job->out = out;
    out->endpoint = which;
    job->retry_after_s = -1;
    job->rl_limit = job->rl_remaining = -1;
    const char *server = (opts && opts->server_url) ? opts->server_url : c->server_url;
    job->timeout_ms = (opts && opts->timeout_ms >= 0) ? opts->timeout_ms : c->timeout_ms;
    job->retry = (opts && opts->retry) ? *opts->retry : c->retry;
    job->max_body = c->max_body;
    if (opts && opts->log && opts->log_level > 0) {
        job->log = opts->log;
        job->log_ctx = opts->log_ctx;
        job->log_level = opts->log_level;
    }
    job->base_headers = c->base_headers;
    job->client_secrets = &c->secrets;
    job->https = strncasecmp(server, "https:", 6) == 0;
    job->company_key = codat_company_key(company_id);
    job->url = codat_build_url(server, which, company_id);
    if (!job->url)
        return -1;
    if (opts && opts->extra_headers && opts->extra_headers[0]) {
        /* The caller's headers go first so that they replace ours of the same name (libcurl keeps the
         * first); our Authorization is kept unless the caller sets one. */
        for (const char *const *h = opts->extra_headers; *h; h++) {
            struct curl_slist *next = curl_slist_append(job->headers, *h);
            if (!next)
                return -1;
            job->headers = next;
        }
        for (struct curl_slist *h = c->base_headers; h; h = h->next) {
            size_t name_len = strcspn(h->data, ":");
            int overridden = 0;
            for (const char *const *x = opts->extra_headers; *x; x++)
                if (strncasecmp(*x, h->data, name_len) == 0 && (*x)[name_len] == ':')
                    overridden = 1;
            if (overridden)
                continue;
            struct curl_slist *next = curl_slist_append(job->headers, h->data);
            if (!next)
                return -1;
            job->headers = next;
        }
    }
    return 0;
}

void job_release(codat_job *job)
{
    free(job->url);
    job->url = NULL;
    curl_slist_free_all(job->headers);
    job->headers = NULL;
    growbuf_free(&job->body);
    growbuf_free(&job->hdrs);
    if (job->secrets_state != 0)
        codat_secrets_free(&job->secrets);
    job->secrets_state = 0;
}


/* ---- easy handles ---- */

static CURL *easy_new(const attempt_settings *c)
{
    CURL *easy = curl_easy_init();
    if (!easy)
        return NULL;
    /* Once per handle: what does not change between attempts. */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_SHARE, c->share);
    curl_easy_setopt(easy, CURLOPT_NOPROXY, c->no_proxy); /* set, so libcurl never reads the environment */
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); /* Authorization must never travel elsewhere */
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    /* HTTP/2 where TLS's ALPN offers it, else HTTP/1.1: libcurl's default since 7.62, said here because a
     * batch relies on it to need one handshake per thread instead of one per transfer in flight. A libcurl
     * built without HTTP/2 refuses the option and stays on HTTP/1.1, which is all it can do anyway. */
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, c->verify ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, c->verify ? 2L : 0L);
    if (c->ca_bundle)
        curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_bundle);
    if (c->ca_dir)
        curl_easy_setopt(easy, CURLOPT_CAPATH, c->ca_dir);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    return easy;
}

/* ---- log lines (only at the levels the call asked for) ---- */

static int log_wanted(const codat_job *job, int level)
{
    return job->log && job->log_level <= level;
}

static void job_log(const codat_job *job, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void job_log(const codat_job *job, int level, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    job->log(job->log_ctx, level, line);
}

/* The request path without the server: enough to identify the call, and shorter. */
static const char *url_path(const codat_job *job)
{
    const char *p = strstr(job->url, "/companies/");
    return p ? p : job->url;
}

/* ---- redacting what came back ---- */

static void growbuf_redact(growbuf *buf, const codat_secrets *secrets)
{
    if (!buf->data)
        return;
    codat_redact(&buf->data, &buf->len, secrets);
    buf->cap = buf->len + 1; /* codat_redact may have replaced the buffer with one that just fits */
}

static void growbuf_wipe(growbuf *buf)
{
    if (buf->data)
        memset(buf->data, 0, buf->len);
    buf->len = 0;
}

/* Scans this attempt's body and headers for the secrets, once. Out of memory, they are dropped. */
static void redact_attempt(codat_job *job)
{
    if (job->redacted)
        return;
    const codat_secrets *secrets = job_secrets(job);
    if (secrets) {
        growbuf_redact(&job->body, secrets);
        growbuf_redact(&job->hdrs, secrets);
        /* Cut off at max_body_bytes, either may end inside a secret: its first part must not show. */
        if (job->body_too_large && job->body.data) {
            codat_redact_cut_tail(&job->body.data, &job->body.len, secrets);
            job->body.cap = job->body.len + 1;
        }
        if (job->headers_too_large && job->hdrs.data) {
            codat_redact_cut_tail(&job->hdrs.data, &job->hdrs.len, secrets);
            job->hdrs.cap = job->hdrs.len + 1;
        }
    } else {
        growbuf_wipe(&job->body);
        growbuf_wipe(&job->hdrs);
    }
    job->redacted = 1;
}

/* The parsed answer, every string of it (keys too): a secret may hide in an escape that only the parser
 * resolves ("\\u002B" in the raw text is "\u002B" in the string). Returns 0, or -1 when out of memory
 * (the answer must then not be shown). */
static int redact_parsed(void *ctx, cJSON *json)
{
    codat_job *job = ctx;
    if (!json)
        return 0;
    const codat_secrets *secrets = job_secrets(job);
    if (!secrets)
        return -1;
    codat_redact_json(json, secrets);
    return 0;
}

/* ---- the call's result ---- */

/* A call's result is filled here alone (finish below); its life cycle sits beside, so that sched.c can make
 * one for a job without calling up into client.c. */
void codat_result_init(codat_result *r)
{
    memset(r, 0, sizeof *r);
    r->retry_after_s = -1;
}

void codat_result_clear(codat_result *r)
{
    free(r->body);
    free(r->headers);
    if (r->json)
        cJSON_Delete(r->json);
    codat_result_init(r);
}

static void finish(codat_job *job, codat_outcome outcome, long status, cJSON *json, CURLcode code,
                   int body_too_large, const char *message)
{
    codat_result *r = job->out;
    if (outcome != CODAT_OK)
        redact_attempt(job);
    r->outcome = outcome;
    r->status = status;
    r->json = json;
    r->curl_code = (int)code;
    r->retry_after_s = job->retry_after_s;
    r->body_too_large = body_too_large;
    r->attempts = job->retries_done + 1;
    /* Hand the buffers over rather than copying them. */
    r->body = job->body.data;
    r->body_len = job->body.len;
    job->body.data = NULL;
    job->body.len = job->body.cap = 0;
    r->headers = job->hdrs.data;
    r->headers_len = job->hdrs.len;
    job->hdrs.data = NULL;
    job->hdrs.len = job->hdrs.cap = 0;
    if (message)
        snprintf(r->message, sizeof r->message, "%s", message);
    job->state = JOB_DONE;
    /* A cancel, and a call cut short by close(), are not failures of the request: not logged. */
    if (outcome != CODAT_OK && outcome != CODAT_CANCELLED && outcome != CODAT_BAD_INPUT &&
        log_wanted(job, CODAT_LOG_DEBUG)) {
        char detail[300] = "";
        if (status)
            snprintf(detail, sizeof detail, " (status %ld)", status);
        else if (message)
            snprintf(detail, sizeof detail, ": %s", message);
        job_log(job, CODAT_LOG_DEBUG, "GET %s failed after %d attempt%s: %s%s", url_path(job), r->attempts,
                r->attempts == 1 ? "" : "s", judge_outcome_name(outcome), detail);
    }
}


/* Whether the kept header block (the final response's: it restarts at each status line) holds its
 * closing blank line, i.e. all of its headers came. Trailers of a chunked body may follow that line. */
static int header_block_complete(const growbuf *h)
{
    return h->len > 0 && (memmem(h->data, h->len, "\n\r\n", 3) || memmem(h->data, h->len, "\n\n", 2));
}

/* ---- one attempt: start, collect its facts, detach ---- */

void easy_pool_free(easy_pool *p)
{
    for (int i = 0; i < p->n; i++)
        curl_easy_cleanup(p->idle[i]);
    p->n = 0;
}

int attempt_start(CURLM *multi, easy_pool *pool, const attempt_settings *net, codat_job *job)
{
    CURL *easy = pool->n > 0 ? pool->idle[--pool->n] : easy_new(net);
    if (!easy)
        return -1;
    job->easy = easy;
    job->body.len = 0;
    job->hdrs.len = 0;
    job->body_too_large = 0;
    job->headers_too_large = 0;
    job->redacted = 0;
    job->retry_after_s = -1;
    job->errbuf[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, job->url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, job->headers ? job->headers : net->base_headers);
    curl_easy_setopt(easy, CURLOPT_PROXY, job->https ? net->proxy_https : net->proxy_http);
    /* Over HTTPS the server may offer HTTP/2 (ALPN): transfers that start together then wait for the first
     * connection's handshake and share it as streams, instead of each opening its own connection. Never
     * over plain http://, which is HTTP/1.1 here: libcurl would hold every new transfer to a host until the
     * first one's whole response came back, only to learn that. */
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, job->https ? 1L : 0L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, job->timeout_ms > 0 ? job->timeout_ms : 0L);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, job);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, job);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, job);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, job->errbuf);
    job->attempt_start_ms = codat_now_ms();
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
        job->easy = NULL;
        curl_easy_cleanup(easy);
        return -1;
    }
    return 0;
}

void attempt_detach(CURLM *multi, easy_pool *pool, codat_job *job)
{
    if (!job->easy)
        return;
    curl_multi_remove_handle(multi, job->easy);
    curl_easy_setopt(job->easy, CURLOPT_ERRORBUFFER, NULL);
    if (pool->n < CODAT_MAX_IDLE_EASY)
        pool->idle[pool->n++] = job->easy;
    else
        curl_easy_cleanup(job->easy);
    job->easy = NULL;
}

void attempt_collect(codat_job *job, CURLcode code, attempt_facts *f)
{
    memset(f, 0, sizeof *f);
    char *content_type = NULL;
    f->new_connections = -1;
    curl_easy_getinfo(job->easy, CURLINFO_RESPONSE_CODE, &f->status);
    curl_easy_getinfo(job->easy, CURLINFO_CONTENT_TYPE, &content_type);
    curl_easy_getinfo(job->easy, CURLINFO_NUM_CONNECTS, &f->new_connections);
    /* Redact before the judge parses, so that neither the body nor the parsed error object can carry a
     * secret that a misbehaving server or proxy echoed back. */
    if (code == CURLE_OK && (f->status < 200 || f->status >= 300))
        redact_attempt(job);
    f->curl_code = (int)code;
    f->code_text = curl_easy_strerror(code);
    f->error_text = job->errbuf[0] ? job->errbuf : f->code_text;
    f->content_type = content_type;
    f->body = job->body.data;
    f->body_len = job->body.len;
    f->headers_len = job->hdrs.len;
    f->headers_complete = header_block_complete(&job->hdrs);
    f->body_too_large = job->body_too_large;
    f->headers_too_large = job->headers_too_large;
    f->max_body = job->max_body;
    f->retry_after_s = job->retry_after_s;
    f->rate_limit_seen = job->rl_limit >= 0 || job->rl_remaining >= 0 || job->rl_reset[0];
    f->redact_json = redact_parsed;
    f->redact_ctx = job;
}

void attempt_log_verdict(const codat_job *job, const judge_verdict *v, double now_ms)
{
    if (v->kind == VERDICT_RESEND) {
        if (log_wanted(job, CODAT_LOG_DEBUG))
            job_log(job, CODAT_LOG_DEBUG, "GET %s: the kept-alive connection was dead (%s); sending again",
                    url_path(job), v->message);
        return;
    }
    if (log_wanted(job, CODAT_LOG_DEBUG)) {
        double ms = now_ms - job->attempt_start_ms;
        if (v->status)
            job_log(job, CODAT_LOG_DEBUG, "GET %s -> %ld in %.1f ms (attempt %d)", url_path(job), v->status, ms,
                    job->retries_done + 1);
        else
            job_log(job, CODAT_LOG_DEBUG, "GET %s -> %s in %.1f ms (attempt %d): %s", url_path(job),
                    judge_outcome_name(v->outcome), ms, job->retries_done + 1, v->message);
    }
    if (v->kind == VERDICT_RETRY && log_wanted(job, CODAT_LOG_INFO)) {
        char reason[64];
        if (v->status)
            snprintf(reason, sizeof reason, "status %ld", v->status);
        else
            snprintf(reason, sizeof reason, "%s", judge_outcome_name(v->outcome));
        job_log(job, CODAT_LOG_INFO, "GET %s: retrying after %s in %.3f s%s (retry %d)", url_path(job), reason,
                v->delay_ms / 1000.0, job->retry_after_s >= 0 ? " (Retry-After)" : "", job->retries_done + 1);
    }
}

void attempt_log_slot_wait(codat_job *job, unsigned limit)
{
    if (!job->waited_for_slot && log_wanted(job, CODAT_LOG_DEBUG))
        job_log(job, CODAT_LOG_DEBUG, "GET %s: %u requests for this company are in flight; waiting for one "
                "to end", url_path(job), limit);
    job->waited_for_slot = 1;
}

void attempt_finish(codat_job *job, const judge_verdict *v)
{
    finish(job, v->outcome, v->status, v->json, (CURLcode)v->curl_code, v->body_too_large,
           v->message[0] ? v->message : NULL);
}

void attempt_abort(codat_job *job, codat_outcome outcome, const char *message)
{
    finish(job, outcome, 0, NULL, CURLE_ABORTED_BY_CALLBACK, job->body_too_large, message);
}
