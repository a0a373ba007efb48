/* args.c: every argument check of the binding, with the GIL held: the constructor's (auth, server URL,
 * timeouts, verify, limits) and the calls' (company ids, an async call's target, per-call options, headers,
 * a batch's own arguments). A RetryConfig is checked when it is made (Python); reading one into the core's
 * struct is convert.c's. Python callers that must refuse what a call would refuse (the token cache's batch)
 * use the same checks through Client._check_batch_args. */
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include "binding.h"
#include "../core/base64.h"

#define MAX_COMPANY_ID_BYTES 1024

/* ---- keyword names ---- */

static const char *const keyword_names[KW_COUNT] = {
    [KW_TIMEOUT_MS] = "timeout_ms", [KW_RETRIES] = "retries", [KW_SERVER_URL] = "server_url",
    [KW_HTTP_HEADERS] = "http_headers", [KW_CONCURRENCY] = "concurrency", [KW_ENDPOINT] = "endpoint",
    [KW_PROGRESS] = "progress", [KW_THREADS] = "threads",
};

int args_intern_keywords(module_state *st)
{
    for (int k = 0; k < KW_COUNT; k++)
        if (!(st->kw[k] = PyUnicode_InternFromString(keyword_names[k])))
            return -1;
    return 0;
}

/* The index of name among the first n keyword names, or -1. A keyword written at a call site arrives as
 * the interned constant of the caller's code, so identity almost always decides; a name built at run
 * time (**{"time" + "out_ms": ...}) is compared by value. */
static int keyword_index(module_state *st, PyObject *name, int n)
{
    for (int k = 0; k < n; k++)
        if (name == st->kw[k])
            return k;
    for (int k = 0; k < n; k++)
        if (PyUnicode_Compare(name, st->kw[k]) == 0)
            return k;
    return -1;
}

/* ---- small checks ---- */

const char *company_id_utf8(PyObject *obj)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "company_id must be str, not %.100s", Py_TYPE(obj)->tp_name);
        return NULL;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (!s)
        return NULL;
    if (len == 0) {
        PyErr_SetString(PyExc_ValueError, "company_id must not be empty");
        return NULL;
    }
    if ((size_t)len != strlen(s)) {
        PyErr_SetString(PyExc_ValueError, "company_id must not contain NUL characters");
        return NULL;
    }
    if (len > MAX_COMPANY_ID_BYTES) {
        PyErr_Format(PyExc_ValueError, "company_id is too long (%zd bytes; at most %d)", len, MAX_COMPANY_ID_BYTES);
        return NULL;
    }
    return s;
}

int overflow_to_value_error(const char *what)
{
    if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s is out of range", what);
    }
    return -1;
}

int check_header_value(const char *value, Py_ssize_t len, const char *what)
{
    for (Py_ssize_t i = 0; i < len; i++) {
        if (value[i] == '\r' || value[i] == '\n' || value[i] == '\0') {
            /* Never echo the value: it may be a secret. */
            PyErr_Format(PyExc_ValueError, "%s must not contain CR, LF or NUL characters", what);
            return -1;
        }
    }
    return 0;
}

/* ---- options ---- */

void call_options_clear(call_options *co)
{
    Py_CLEAR(co->server_url);
    for (Py_ssize_t i = 0; i < co->n_headers; i++)
        PyMem_Free(co->header_lines[i]);
    PyMem_Free(co->header_lines);
    co->header_lines = NULL;
    co->n_headers = 0;
}

static int is_token_char(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

/* Headers that frame the message or steer the connection: libcurl sets them from what it sends, and one
 * given by hand would contradict it (a Transfer-Encoding on a GET leaves the server waiting for a body
 * that never comes, and the call hangs with no timeout). */
static int is_framing_header(const char *name, Py_ssize_t len)
{
    static const char *const framing[] = {"Content-Length", "Transfer-Encoding", "Host", "Connection",
                                          "Keep-Alive", "Upgrade", "Proxy-Connection"};
    for (size_t i = 0; i < sizeof framing / sizeof *framing; i++)
        if ((size_t)len == strlen(framing[i]) && strncasecmp(name, framing[i], (size_t)len) == 0)
            return 1;
    return 0;
}

static int parse_headers(PyObject *mapping, call_options *co)
{
    if (mapping == Py_None)
        return 0;
    if (!PyDict_Check(mapping)) {
        PyErr_Format(PyExc_TypeError, "http_headers must be a dict of str to str, not %.100s",
                     Py_TYPE(mapping)->tp_name);
        return -1;
    }
    Py_ssize_t n = PyDict_GET_SIZE(mapping);
    co->header_lines = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    if (!co->header_lines) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(mapping, &pos, &key, &value)) {
        if (!PyUnicode_Check(key) || !PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "http_headers must be a dict of str to str");
            return -1;
        }
        Py_ssize_t klen, vlen;
        const char *k = PyUnicode_AsUTF8AndSize(key, &klen);
        const char *v = k ? PyUnicode_AsUTF8AndSize(value, &vlen) : NULL;
        if (!v)
            return -1;
        if (klen == 0) {
            PyErr_SetString(PyExc_ValueError, "http_headers: a header name must not be empty");
            return -1;
        }
        for (Py_ssize_t i = 0; i < klen; i++) {
            if (!is_token_char((unsigned char)k[i])) {
                PyErr_SetString(PyExc_ValueError, "http_headers: a header name may hold only token characters");
                return -1;
            }
        }
        if (is_framing_header(k, klen)) {
            PyErr_Format(PyExc_ValueError, "http_headers: %U is set by the transfer itself and may not be given",
                         key);
            return -1;
        }
        if (check_header_value(v, vlen, "http_headers values") < 0)
            return -1;
        char *line = PyMem_Malloc((size_t)klen + (size_t)vlen + 3);
        if (!line) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(line, k, (size_t)klen);
        memcpy(line + klen, ": ", 2);
        memcpy(line + klen + 2, v, (size_t)vlen + 1);
        co->header_lines[co->n_headers++] = line;
    }
    co->opts.extra_headers = (const char *const *)co->header_lines;
    return 0;
}

static int parse_timeout(PyObject *obj, long *out)
{
    if (obj == Py_None) {
        *out = 0;
        return 0;
    }
    long v;
    if (PyFloat_Check(obj)) {
        /* A computed timeout (1500.0, 2.5 * 1000) is accepted, as the official SDK accepts it; a fraction of a
         * millisecond rounds up so that the caller never gets less time than asked. */
        double d = PyFloat_AS_DOUBLE(obj);
        if (!isfinite(d) || d <= 0) {
            PyErr_SetString(PyExc_ValueError, "timeout_ms must be a positive number of milliseconds, or None");
            return -1;
        }
        d = ceil(d);
        if (d >= 9223372036854775808.0 || d > (double)LONG_MAX) { /* 2**63: past any long, as an int would be */
            PyErr_SetString(PyExc_ValueError, "timeout_ms is out of range");
            return -1;
        }
        *out = (long)d;
        return 0;
    }
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "timeout_ms must be a number (int or float) or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return overflow_to_value_error("timeout_ms");
    if (v <= 0) {
        PyErr_SetString(PyExc_ValueError, "timeout_ms must be a positive number of milliseconds, or None");
        return -1;
    }
    *out = v;
    return 0;
}

/* An int option in [lo, hi] (hi LONG_MAX: no upper bound): TypeError for anything but an int (bool
 * included), ValueError outside the range (an int too big for a C long included). */
int parse_bounded_int(PyObject *v, const char *name, long lo, long hi, long *out)
{
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", name, Py_TYPE(v)->tp_name);
        return -1;
    }
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return overflow_to_value_error(name);
    if (x < lo || x > hi) {
        if (hi == LONG_MAX)
            PyErr_Format(PyExc_ValueError, "%s must be >= %ld", name, lo);
        else
            PyErr_Format(PyExc_ValueError, "%s must be between %ld and %ld", name, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_server_url(PyObject *obj, const char **out)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "server_url must be str, not %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &len);
    if (!s)
        return -1;
    char err[128];
    if ((size_t)len != strlen(s) || codat_check_server_url(s, err, sizeof err) != 0) {
        PyErr_SetString(PyExc_ValueError, (size_t)len != strlen(s) ? "server_url must not contain NUL" : err);
        return -1;
    }
    *out = s;
    return 0;
}

int parse_endpoint(PyObject *obj, codat_endpoint *out)
{
    if (!obj)
        return 0;
    if (PyUnicode_Check(obj) && PyUnicode_CompareWithASCIIString(obj, "connection_management") == 0)
        *out = CODAT_EP_CONNECTION_MANAGEMENT;
    else if (PyUnicode_Check(obj) && PyUnicode_CompareWithASCIIString(obj, "company") == 0)
        *out = CODAT_EP_COMPANY;
    else {
        PyErr_SetString(PyExc_ValueError, "endpoint must be \"connection_management\" or \"company\"");
        return -1;
    }
    return 0;
}

int parse_async_target(PyObject *const *args, Py_ssize_t nargs, const char *usage, codat_endpoint *which,
                       const char **company_id)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, usage);
        return -1;
    }
    if (parse_endpoint(args[0], which) < 0)
        return -1;
    return (*company_id = company_id_utf8(args[1])) ? 0 : -1;
}

/* ---- a call's keyword options ---- */

static int parse_call_option(int which, PyObject *value, call_options *co)
{
    switch (which) {
    case KW_TIMEOUT_MS:
        return parse_timeout(value, &co->opts.timeout_ms);
    case KW_RETRIES:
        if (retry_from_python(value, &co->retry) < 0)
            return -1;
        co->opts.retry = &co->retry;
        return 0;
    case KW_SERVER_URL:
        if (value != Py_None) {
            const char *url;
            if (parse_server_url(value, &url) < 0)
                return -1;
            Py_XSETREF(co->server_url, Py_NewRef(value));
            co->opts.server_url = url;
        }
        return 0;
    default: /* KW_HTTP_HEADERS */
        return parse_headers(value, co);
    }
}

int parse_call_kwargs(module_state *st, PyObject *const *kwvalues, PyObject *kwnames, call_options *co,
                      PyObject **batch_values)
{
    codat_call_opts_init(&co->opts);
    if (!kwnames)
        return 0;
    int known = batch_values ? KW_COUNT : KW_N_CALL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int which = keyword_index(st, name, known);
        if (which < 0) {
            PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%U'", name);
            return -1;
        }
        if (which >= KW_N_CALL)
            batch_values[which - KW_N_CALL] = kwvalues[i];
        else if (parse_call_option(which, kwvalues[i], co) < 0)
            return -1;
    }
    return 0;
}

/* ---- a batch's own arguments ---- */

/* company_ids -> a dict of the ids, each checked, duplicates once in first-seen order. */
static PyObject *unique_company_ids(PyObject *company_ids)
{
    if (PyUnicode_Check(company_ids)) {
        PyErr_SetString(PyExc_TypeError, "company_ids must be an iterable of str, not a single str");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(company_ids, "company_ids must be an iterable of str");
    if (!seq)
        return NULL;
    PyObject *unique = PyDict_New();
    for (Py_ssize_t i = 0; unique && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        /* company_id_utf8 also caches the UTF-8 that the batch hands the core */
        if (!company_id_utf8(item) || PyDict_SetItem(unique, item, Py_None) < 0)
            Py_CLEAR(unique);
    }
    Py_DECREF(seq);
    return unique;
}

int parse_batch_args(module_state *st, long default_concurrency, PyObject *company_ids, PyObject *const *kwvalues,
                     PyObject *kwnames, batch_args *out)
{
    PyObject *values[KW_N_BATCH] = {NULL};
    out->concurrency = default_concurrency;
    out->which = CODAT_EP_CONNECTION_MANAGEMENT;
    if (parse_call_kwargs(st, kwvalues, kwnames, &out->co, values) < 0)
        return -1;
    PyObject *concurrency = values[KW_CONCURRENCY - KW_N_CALL], *threads = values[KW_THREADS - KW_N_CALL];
    PyObject *progress = values[KW_PROGRESS - KW_N_CALL];
    if (concurrency && concurrency != Py_None &&
        parse_bounded_int(concurrency, "concurrency", 1, 1024, &out->concurrency) < 0)
        return -1;
    if (threads && threads != Py_None && parse_bounded_int(threads, "threads", 1, 64, &out->threads) < 0)
        return -1;
    if (parse_endpoint(values[KW_ENDPOINT - KW_N_CALL], &out->which) < 0)
        return -1;
    if (progress && progress != Py_None) {
        if (!PyCallable_Check(progress)) {
            PyErr_SetString(PyExc_TypeError, "progress must be callable(done, total) or None");
            return -1;
        }
        out->progress = progress;
    }
    out->unique = unique_company_ids(company_ids);
    return out->unique ? 0 : -1;
}

void batch_args_clear(batch_args *b)
{
    call_options_clear(&b->co);
    Py_CLEAR(b->unique);
}

/* ---- the constructor's arguments ---- */

/* A secret header value: str, no CR/LF/NUL, not blank (libcurl reads a header with a blank value as
 * "remove this header": the requests would go out with no Authorization at all). */
static const char *secret_utf8(PyObject *obj, const char *name, Py_ssize_t *len)
{
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", name, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    const char *s = PyUnicode_AsUTF8AndSize(obj, len);
    if (!s || check_header_value(s, *len, name) < 0)
        return NULL;
    if (strspn(s, " \t\v\f") == (size_t)*len) {
        PyErr_Format(PyExc_ValueError, *len ? "%s must not be only whitespace" : "%s must not be empty", name);
        return NULL;
    }
    return s;
}

/* auth_header as given, or "Basic " + base64(api_key) in PyMem memory that client_config_clear wipes. */
static int parse_auth(const client_kwargs *in, client_config *out)
{
    Py_ssize_t len;
    if (in->auth != Py_None && in->api_key != Py_None) {
        PyErr_SetString(PyExc_ValueError, "give auth_header or api_key, not both");
        return -1;
    }
    if (in->auth != Py_None)
        return (out->cfg.auth_header = secret_utf8(in->auth, "auth_header", &len)) ? 0 : -1;
    if (in->api_key == Py_None)
        return 0;
    const char *key = secret_utf8(in->api_key, "api_key", &len);
    if (!key)
        return -1;
    out->auth_owned = PyMem_Malloc(6 + codat_base64_encoded_len((size_t)len) + 1);
    if (!out->auth_owned) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(out->auth_owned, "Basic ", 6);
    codat_base64_encode((const unsigned char *)key, (size_t)len, out->auth_owned + 6);
    out->cfg.auth_header = out->auth_owned;
    return 0;
}

/* verify as a path (str, bytes or os.PathLike, in the file system encoding) -> out->verify_bytes. */
static int verify_path_bytes(PyObject *verify, client_config *out)
{
    PyObject *fspath = PyOS_FSPath(verify);
    if (!fspath)
        return -1;
    if (PyUnicode_Check(fspath) && PyUnicode_FindChar(fspath, 0, 0, PyUnicode_GET_LENGTH(fspath), 1) != -1) {
        Py_DECREF(fspath);
        PyErr_SetString(PyExc_ValueError, "verify: a CA bundle path must not contain NUL");
        return -1;
    }
    int ok = PyUnicode_Check(fspath) ? PyUnicode_FSConverter(fspath, &out->verify_bytes)
                                     : (out->verify_bytes = Py_NewRef(fspath)) != NULL;
    Py_DECREF(fspath);
    if (!ok)
        return -1;
    const char *ca_path = PyBytes_AS_STRING(out->verify_bytes);
    if (strlen(ca_path) != (size_t)PyBytes_GET_SIZE(out->verify_bytes) || !ca_path[0]) {
        PyErr_SetString(PyExc_ValueError, ca_path[0] ? "verify: a CA bundle path must not contain NUL"
                                                   : "verify: the CA bundle path is empty");
        return -1;
    }
    return 0;
}

static int parse_verify(PyObject *verify, client_config *out)
{
    if (PyBool_Check(verify)) {
        out->cfg.verify = verify == Py_True;
        return 0;
    }
    if (!PyUnicode_Check(verify) && !PyBytes_Check(verify) && !PyObject_HasAttrString(verify, "__fspath__")) {
        PyErr_Format(PyExc_TypeError, "verify must be True, False or a CA bundle path, not %.100s",
                     Py_TYPE(verify)->tp_name);
        return -1;
    }
    out->cfg.verify = 1;
    if (verify_path_bytes(verify, out) < 0)
        return -1;
    /* A file is a PEM bundle; a directory holds hashed certificates (as requests and httpx take it). */
    const char *ca_path = PyBytes_AS_STRING(out->verify_bytes);
    struct stat sb;
    int exists = stat(ca_path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode)) {
        out->cfg.ca_dir = ca_path;
    } else if (exists && S_ISREG(sb.st_mode)) {
        out->cfg.ca_bundle = ca_path;
    } else {
        PyErr_Format(PyExc_FileNotFoundError, "verify: CA bundle %R is not a readable file or directory", verify);
        return -1;
    }
    return 0;
}

static int parse_max_body(PyObject *max_body, size_t *out)
{
    long mb;
    if (!max_body || max_body == Py_None)
        return 0;
    if (parse_bounded_int(max_body, "max_body_bytes", 1024, LONG_MAX, &mb) < 0)
        return -1;
    *out = (size_t)mb;
    return 0;
}

int parse_client_config(module_state *st, const client_kwargs *in, client_config *out)
{
    out->cfg.user_agent = st->user_agent;
    if (parse_auth(in, out) < 0)
        return -1;
    out->server_url = in->server_url ? Py_NewRef(in->server_url) : PyUnicode_FromString(CODAT_DEFAULT_SERVER_URL);
    if (!out->server_url || parse_server_url(out->server_url, &out->cfg.server_url) < 0)
        return -1;
    if (in->batch_concurrency != Py_None &&
        parse_bounded_int(in->batch_concurrency, "batch_concurrency", 1, 1024, &out->batch_concurrency) < 0)
        return -1;
    if (parse_timeout(in->timeout, &out->cfg.timeout_ms) < 0)
        return -1;
    if (in->retries) {
        if (retry_from_python(in->retries, &out->cfg.retry) < 0)
            return -1;
    } else {
        codat_retry_defaults(&out->cfg.retry);
    }
    if (parse_verify(in->verify, out) < 0 || parse_max_body(in->max_body, &out->cfg.max_body_bytes) < 0)
        return -1;
    return 0;
}

void client_config_clear(client_config *c)
{
    Py_CLEAR(c->server_url);
    Py_CLEAR(c->verify_bytes);
    if (c->auth_owned) {
        memset(c->auth_owned, 0, strlen(c->auth_owned));
        PyMem_Free(c->auth_owned);
        c->auth_owned = NULL;
    }
}
