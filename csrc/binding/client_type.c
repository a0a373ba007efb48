/* client_type.c: the Client heap type. Argument checks and conversions happen with the GIL held; every
 * transfer and every backoff sleep runs with the GIL released. */
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include "binding.h"
#include <structmember.h>


module_state *client_state(ClientObject *self)
{
    return get_module_state(self->module);
}

/* ---- waiting with the GIL released ---- */

typedef struct {
    PyThreadState *tstate;   /* our thread state while the GIL is released */
    PyObject *progress;      /* batch only: callable(done, total) or NULL */
    int python_error;        /* a hook raised: the exception is pending in tstate */
} wait_ctx;

/* The core calls this about every 50 ms. Signal handlers only run on the main thread and only with the
 * GIL, so take it back briefly (as sock_call_ex and _sqlite's progress handler do) and let
 * PyErr_CheckSignals run them; a KeyboardInterrupt then stays pending and the call unwinds. */
static int check_interrupt(void *p)
{
    wait_ctx *w = p;
    PyEval_RestoreThread(w->tstate);
    int rc = PyErr_CheckSignals();
    w->tstate = PyEval_SaveThread();
    if (rc < 0) {
        w->python_error = 1;
        return 1;
    }
    return 0;
}

static int report_progress(void *p, size_t done, size_t total)
{
    wait_ctx *w = p;
    if (!w->progress)
        return 0;
    PyEval_RestoreThread(w->tstate);
    PyObject *r = PyObject_CallFunction(w->progress, "nn", (Py_ssize_t)done, (Py_ssize_t)total);
    int failed = r == NULL;
    Py_XDECREF(r);
    w->tstate = PyEval_SaveThread();
    if (failed) {
        w->python_error = 1;
        return 1;
    }
    return 0;
}

/* ---- logging ---- */

/* The lowest level the "codat_platform_c" logger wants, or 0. Costs a dict lookup when the application
 * never imported logging (then nobody could be listening), and a few isEnabledFor calls otherwise; the
 * core formats nothing below the level returned. */
static int wanted_log_level(module_state *st)
{
    PyObject *logging = PyImport_GetModule(st->str_logging);
    if (!logging) {
        PyErr_Clear();
        return 0;
    }
    if (!st->logger) {
        st->logger = PyObject_CallMethod(logging, "getLogger", "s", "codat_platform_c");
        /* A library's logger gets a NullHandler, so that an application that configured no logging does
         * not get logging's last-resort handler printing our warnings on stderr. */
        PyObject *null_handler = st->logger ? PyObject_CallMethod(logging, "NullHandler", NULL) : NULL;
        PyObject *r = null_handler ? PyObject_CallMethod(st->logger, "addHandler", "O", null_handler) : NULL;
        Py_XDECREF(null_handler);
        if (!r)
            Py_CLEAR(st->logger);
        Py_XDECREF(r);
    }
    Py_DECREF(logging);
    if (!st->logger) {
        PyErr_Clear();
        return 0;
    }
    /* INFO (retries) is the highest level the core logs, DEBUG the lowest: failures that are raised to the
     * caller are DEBUG lines, never warnings. Levels nest, so INFO off means nothing is wanted. */
    static const int order[] = {CODAT_LOG_INFO, CODAT_LOG_DEBUG};
    int lowest = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        PyObject *r = PyObject_CallMethod(st->logger, "isEnabledFor", "i", order[i]);
        int on = r ? PyObject_IsTrue(r) : 0;
        Py_XDECREF(r);
        if (on <= 0) {
            PyErr_Clear();
            break;
        }
        lowest = order[i];
    }
    return lowest;
}

/* Called by the core with no GIL, from the calling thread or the I/O thread. */
static void log_to_python(void *ctx, int level, const char *message)
{
    module_state *st = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallMethod(st->logger, "log", "is", level, message);
    if (!r)
        PyErr_WriteUnraisable(st->logger); /* a broken handler must not break the call */
    Py_XDECREF(r);
    PyGILState_Release(g);
}

void attach_logging(module_state *st, codat_call_opts *opts)
{
    int level = wanted_log_level(st);
    if (level > 0) {
        opts->log = log_to_python;
        opts->log_ctx = st;
        opts->log_level = level;
    }
}

/* ---- shared argument handling ---- */

int check_open(ClientObject *self)
{
    if (!self->core || codat_client_is_closed(self->core)) {
        PyErr_SetString(PyExc_ValueError, "Client is closed");
        return -1;
    }
    return 0;
}


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

/* An int option in [lo, hi]: TypeError for anything but an int (bool included), ValueError outside the
 * range (an int too big for a C long included). */
static int parse_bounded_int(PyObject *v, const char *name, long lo, long hi, long *out)
{
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", name, Py_TYPE(v)->tp_name);
        return -1;
    }
    long x = PyLong_AsLong(v);
    if (x == -1 && PyErr_Occurred())
        return overflow_to_value_error(name);
    if (x < lo || x > hi) {
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

/* Keyword-only options shared by every fetching method. Unknown names raise TypeError. */
int parse_call_kwargs(PyObject *const *kwvalues, PyObject *kwnames, call_options *co,
                             PyObject **extra_names, PyObject **extra_values, int n_extra)
{
    codat_call_opts_init(&co->opts);
    if (!kwnames)
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject *value = kwvalues[i];
        if (PyUnicode_CompareWithASCIIString(name, "timeout_ms") == 0) {
            if (parse_timeout(value, &co->opts.timeout_ms) < 0)
                return -1;
        } else if (PyUnicode_CompareWithASCIIString(name, "retries") == 0) {
            if (retry_from_python(value, &co->retry) < 0)
                return -1;
            co->opts.retry = &co->retry;
        } else if (PyUnicode_CompareWithASCIIString(name, "server_url") == 0) {
            if (value != Py_None) {
                const char *url;
                if (parse_server_url(value, &url) < 0)
                    return -1;
                co->server_url = Py_NewRef(value);
                co->opts.server_url = url;
            }
        } else if (PyUnicode_CompareWithASCIIString(name, "http_headers") == 0) {
            if (parse_headers(value, co) < 0)
                return -1;
        } else {
            int matched = 0;
            for (int k = 0; k < n_extra; k++) {
                if (PyUnicode_CompareWithASCIIString(name, PyUnicode_AsUTF8(extra_names[k])) == 0) {
                    extra_values[k] = value;
                    matched = 1;
                }
            }
            if (!matched) {
                PyErr_Format(PyExc_TypeError, "unexpected keyword argument '%U'", name);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- fetching one token ---- */

static PyObject *fetch_one(ClientObject *self, codat_endpoint which, const char *method_name,
                           PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly one positional argument (company_id) (%zd given)",
                     method_name, nargs);
        return NULL;
    }
    if (check_open(self) < 0)
        return NULL;
    const char *company_id = company_id_utf8(args[0]);
    if (!company_id)
        return NULL;
    call_options co;
    memset(&co, 0, sizeof co);
    if (parse_call_kwargs(args + nargs, kwnames, &co, NULL, NULL, 0) < 0) {
        call_options_clear(&co);
        return NULL;
    }
    attach_logging(client_state(self), &co.opts);
    codat_result result;
    wait_ctx w = {0};
    w.tstate = PyEval_SaveThread();
    codat_get_token(self->core, which, company_id, &co.opts, check_interrupt, &w, &result);
    PyEval_RestoreThread(w.tstate);
    PyObject *ret = NULL;
    if (!w.python_error)
        ret = result_to_return(client_state(self), &result);
    codat_result_clear(&result);
    call_options_clear(&co);
    return ret;
}

static PyObject *Client_get_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                         PyObject *kwnames)
{
    if (PyErr_WarnEx(PyExc_DeprecationWarning, CODAT_RETIRED_WARNING, 1) < 0)
        return NULL; /* warnings turned into errors */
    return fetch_one(self, CODAT_EP_CONNECTION_MANAGEMENT, "get_access_token", args, nargs, kwnames);
}

/* The same call without the warning, for codat_platform_c.sdk: its connection_management methods warn with
 * the official SDK's text themselves, and one call should not warn twice. */
static PyObject *Client_connection_management_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                                    PyObject *kwnames)
{
    return fetch_one(self, CODAT_EP_CONNECTION_MANAGEMENT, "get_access_token", args, nargs, kwnames);
}

static PyObject *Client_get_company_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                                 PyObject *kwnames)
{
    return fetch_one(self, CODAT_EP_COMPANY, "get_company_access_token", args, nargs, kwnames);
}

/* ---- batch ---- */

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

static PyObject *Client_get_access_tokens(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames)
{
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "get_access_tokens() takes exactly one positional argument (company_ids)");
        return NULL;
    }
    if (check_open(self) < 0)
        return NULL;
    PyObject *names[4] = {NULL, NULL, NULL, NULL};
    PyObject *values[4] = {NULL, NULL, NULL, NULL};
    names[0] = PyUnicode_InternFromString("concurrency");
    names[1] = PyUnicode_InternFromString("endpoint");
    names[2] = PyUnicode_InternFromString("progress");
    names[3] = PyUnicode_InternFromString("threads");
    PyObject *ret = NULL, *unique = NULL, *seq = NULL;
    const char **ids = NULL;
    codat_result *results = NULL;
    Py_ssize_t n = 0;
    call_options co;
    memset(&co, 0, sizeof co);
    if (!names[0] || !names[1] || !names[2] || !names[3])
        goto done;
    if (parse_call_kwargs(args + nargs, kwnames, &co, names, values, 4) < 0)
        goto done;
    attach_logging(client_state(self), &co.opts);
    long concurrency = self->batch_concurrency ? self->batch_concurrency : CODAT_DEFAULT_CONCURRENCY;
    if (values[0] && values[0] != Py_None && parse_bounded_int(values[0], "concurrency", 1, 1024, &concurrency) < 0)
        goto done;
    long threads = 0; /* None: the core picks */
    if (values[3] && values[3] != Py_None && parse_bounded_int(values[3], "threads", 1, 64, &threads) < 0)
        goto done;
    codat_endpoint which = CODAT_EP_CONNECTION_MANAGEMENT;
    if (parse_endpoint(values[1], &which) < 0)
        goto done;
    /* The batch default stays the endpoint get_access_token asks (switching a caller to the broader company
     * token is not ours to decide), so it warns as get_access_token does: since 2026-10-12 it answers 404. */
    if (which == CODAT_EP_CONNECTION_MANAGEMENT && PyErr_WarnEx(PyExc_DeprecationWarning, CODAT_RETIRED_WARNING, 1) < 0)
        goto done;
    PyObject *progress = values[2] && values[2] != Py_None ? values[2] : NULL;
    if (progress && !PyCallable_Check(progress)) {
        PyErr_SetString(PyExc_TypeError, "progress must be callable(done, total) or None");
        goto done;
    }
    if (PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "company_ids must be an iterable of str, not a single str");
        goto done;
    }
    seq = PySequence_Fast(args[0], "company_ids must be an iterable of str");
    if (!seq)
        goto done;
    /* Duplicates are fetched once: a dict keeps the first-seen order. */
    unique = PyDict_New();
    if (!unique)
        goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!company_id_utf8(item) || PyDict_SetItem(unique, item, Py_None) < 0)
            goto done;
    }
    n = PyDict_GET_SIZE(unique);
    ids = PyMem_Calloc((size_t)n + 1, sizeof *ids);
    results = PyMem_RawCalloc((size_t)n + 1, sizeof *results); /* filled with the GIL released */
    if (!ids || !results) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *val;
    while (PyDict_Next(unique, &pos, &key, &val))
        ids[i++] = PyUnicode_AsUTF8(key); /* cached by company_id_utf8 above */
    wait_ctx w = {0};
    w.progress = progress;
    w.tstate = PyEval_SaveThread();
    codat_get_tokens(self->core, which, ids, (size_t)n, (int)concurrency, (int)threads, &co.opts, check_interrupt,
                     report_progress, &w, results);
    PyEval_RestoreThread(w.tstate);
    if (w.python_error)
        goto done;
    ret = PyDict_New();
    if (!ret)
        goto done;
    pos = 0;
    i = 0;
    while (PyDict_Next(unique, &pos, &key, &val)) {
        int is_error;
        PyObject *value = result_to_python(client_state(self), &results[i++], &is_error);
        if (!value || PyDict_SetItem(ret, key, value) < 0) {
            Py_XDECREF(value);
            Py_CLEAR(ret);
            goto done;
        }
        Py_DECREF(value);
    }
done:
    if (results)
        for (Py_ssize_t k = 0; k < n; k++)
            codat_result_clear(&results[k]);
    PyMem_RawFree(results);
    PyMem_Free(ids);
    Py_XDECREF(unique);
    Py_XDECREF(seq);
    for (int k = 0; k < 4; k++)
        Py_XDECREF(names[k]);
    call_options_clear(&co);
    return ret;
}

/* ---- life cycle ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* "Basic " + base64(key), in PyMem memory the caller frees (after wiping). */
static char *basic_auth_from_key(const char *key, size_t len)
{
    size_t out_len = 6 + 4 * ((len + 2) / 3);
    char *out = PyMem_Malloc(out_len + 1);
    if (!out)
        return NULL;
    memcpy(out, "Basic ", 6);
    char *p = out + 6;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)key[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)key[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)key[i + 2];
        *p++ = b64[(v >> 18) & 63];
        *p++ = b64[(v >> 12) & 63];
        *p++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *p++ = i + 2 < len ? b64[v & 63] : '=';
    }
    *p = '\0';
    return out;
}

/* Whether host (up to its end, ':' or '/') is exactly a 127.x.y.z address. */
static int is_ipv4_loopback(const char *host)
{
    int parts = 0;
    const char *p = host;
    for (;;) {
        int digits = 0, value = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            value = value * 10 + (*p++ - '0');
            digits++;
        }
        if (digits == 0 || digits > 3 || value > 255 || (parts == 0 && value != 127))
            return 0;
        parts++;
        if (parts == 4)
            return *p == '\0' || *p == ':' || *p == '/';
        if (*p++ != '.')
            return 0;
    }
}

static int is_loopback_http(const char *url)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return 1; /* https: nothing to warn about */
    const char *host = url + 7;
    if (is_ipv4_loopback(host))
        return 1;
    static const char *const names[] = {"localhost", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(host, names[i], n) == 0 && (host[n] == '\0' || host[n] == ':' || host[n] == '/'))
            return 1;
    }
    return 0;
}

static int Client_init(ClientObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"auth_header", "api_key", "server_url", "timeout_ms", "retries", "verify",
                             "max_body_bytes", "batch_concurrency", NULL};
    PyObject *auth = Py_None, *api_key = Py_None, *server_url = NULL, *timeout = Py_None;
    PyObject *retries = NULL, *verify = Py_True, *max_body = NULL, *batch_concurrency = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$OOOOOOO:Client", kwlist, &auth, &api_key, &server_url,
                                     &timeout, &retries, &verify, &max_body, &batch_concurrency))
        return -1;
    if (self->core) {
        PyErr_SetString(PyExc_RuntimeError, "Client is already initialised");
        return -1;
    }
    PyObject *module = PyType_GetModuleByDef(Py_TYPE(self), &codat_module_def);
    if (!module)
        return -1;
    module_state *st = get_module_state(module);

    codat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.user_agent = st->user_agent;
    char *auth_owned = NULL;
    size_t auth_owned_len = 0;
    PyObject *verify_bytes = NULL; /* owns cfg.ca_bundle */
    int rc = -1;

    if (auth != Py_None && api_key != Py_None) {
        PyErr_SetString(PyExc_ValueError, "give auth_header or api_key, not both");
        return -1;
    }
    if (auth != Py_None) {
        if (!PyUnicode_Check(auth)) {
            PyErr_Format(PyExc_TypeError, "auth_header must be str, not %.100s", Py_TYPE(auth)->tp_name);
            return -1;
        }
        Py_ssize_t len;
        cfg.auth_header = PyUnicode_AsUTF8AndSize(auth, &len);
        if (!cfg.auth_header || check_header_value(cfg.auth_header, len, "auth_header") < 0)
            return -1;
        /* libcurl reads a header with a blank value as "remove this header": the requests would go out
         * with no Authorization at all. */
        if (strspn(cfg.auth_header, " \t\v\f") == (size_t)len) {
            PyErr_SetString(PyExc_ValueError, len ? "auth_header must not be only whitespace"
                                                  : "auth_header must not be empty");
            return -1;
        }
    } else if (api_key != Py_None) {
        if (!PyUnicode_Check(api_key)) {
            PyErr_Format(PyExc_TypeError, "api_key must be str, not %.100s", Py_TYPE(api_key)->tp_name);
            return -1;
        }
        Py_ssize_t len;
        const char *key = PyUnicode_AsUTF8AndSize(api_key, &len);
        if (!key || check_header_value(key, len, "api_key") < 0)
            return -1;
        if (strspn(key, " \t\v\f") == (size_t)len) {
            PyErr_SetString(PyExc_ValueError, len ? "api_key must not be only whitespace"
                                                  : "api_key must not be empty");
            return -1;
        }
        auth_owned = basic_auth_from_key(key, (size_t)len);
        if (!auth_owned) {
            PyErr_NoMemory();
            return -1;
        }
        auth_owned_len = strlen(auth_owned);
        cfg.auth_header = auth_owned;
    }

    PyObject *reduce_config = NULL;
    long batch_default = 0;
    PyObject *url_obj = server_url ? Py_NewRef(server_url) : PyUnicode_FromString("https://api.codat.io");
    if (!url_obj || parse_server_url(url_obj, &cfg.server_url) < 0)
        goto out;
    if (batch_concurrency != Py_None &&
        parse_bounded_int(batch_concurrency, "batch_concurrency", 1, 1024, &batch_default) < 0)
        goto out;
    if (parse_timeout(timeout, &cfg.timeout_ms) < 0)
        goto out;
    if (retries) {
        if (retry_from_python(retries, &cfg.retry) < 0)
            goto out;
    } else {
        codat_retry_defaults(&cfg.retry);
    }
    if (PyBool_Check(verify)) {
        cfg.verify = verify == Py_True;
    } else if (PyUnicode_Check(verify) || PyBytes_Check(verify) ||
               PyObject_HasAttrString(verify, "__fspath__")) {
        /* A path: str, bytes or os.PathLike, in the file system encoding. */
        cfg.verify = 1;
        PyObject *fspath = PyOS_FSPath(verify);
        if (!fspath)
            goto out;
        if (PyUnicode_Check(fspath) && PyUnicode_FindChar(fspath, 0, 0, PyUnicode_GET_LENGTH(fspath), 1) != -1) {
            Py_DECREF(fspath);
            PyErr_SetString(PyExc_ValueError, "verify: a CA bundle path must not contain NUL");
            goto out;
        }
        int ok = PyUnicode_Check(fspath) ? PyUnicode_FSConverter(fspath, &verify_bytes)
                                         : (verify_bytes = Py_NewRef(fspath)) != NULL;
        Py_DECREF(fspath);
        if (!ok)
            goto out;
        const char *ca_path = PyBytes_AS_STRING(verify_bytes);
        if (strlen(ca_path) != (size_t)PyBytes_GET_SIZE(verify_bytes) || !ca_path[0]) {
            PyErr_SetString(PyExc_ValueError, ca_path[0] ? "verify: a CA bundle path must not contain NUL"
                                                       : "verify: the CA bundle path is empty");
            goto out;
        }
        /* A file is a PEM bundle; a directory holds hashed certificates (as requests and httpx take it). */
        struct stat sb;
        int exists = stat(ca_path, &sb) == 0;
        if (exists && S_ISDIR(sb.st_mode)) {
            cfg.ca_dir = ca_path;
        } else if (exists && S_ISREG(sb.st_mode)) {
            cfg.ca_bundle = ca_path;
        } else {
            PyErr_Format(PyExc_FileNotFoundError, "verify: CA bundle %R is not a readable file or directory",
                         verify);
            goto out;
        }
    } else {
        PyErr_Format(PyExc_TypeError, "verify must be True, False or a CA bundle path, not %.100s",
                     Py_TYPE(verify)->tp_name);
        goto out;
    }
    if (max_body && max_body != Py_None) {
        if (!PyLong_Check(max_body) || PyBool_Check(max_body)) {
            PyErr_SetString(PyExc_TypeError, "max_body_bytes must be an int");
            goto out;
        }
        Py_ssize_t mb = PyLong_AsSsize_t(max_body);
        if (mb == -1 && PyErr_Occurred()) {
            overflow_to_value_error("max_body_bytes");
            goto out;
        }
        if (mb < 1024) {
            PyErr_SetString(PyExc_ValueError, "max_body_bytes must be at least 1024");
            goto out;
        }
        cfg.max_body_bytes = (size_t)mb;
    }
    if (!is_loopback_http(cfg.server_url) && cfg.auth_header &&
        PyErr_WarnEx(PyExc_UserWarning,
                     "server_url uses plain http:// to a non-loopback host: the auth header would travel "
                     "unencrypted", 1) < 0)
        goto out;

    /* Codat's per-company limit, from the class (codat_platform_c.Client says 10; a subclass may say
     * less). The core holds every call of this client to it: threads, batches and async calls alike. */
    PyObject *limit = PyObject_GetAttrString((PyObject *)self, "company_concurrency_limit");
    if (!limit) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            goto out;
        PyErr_Clear();
    } else {
        long v;
        int bad = parse_bounded_int(limit, "company_concurrency_limit", 1, 1000, &v);
        Py_DECREF(limit);
        if (bad)
            goto out;
        cfg.company_limit = (unsigned)v;
    }

    /* What pickling and copying rebuild the client from: the arguments as given, checked above. */
    reduce_config = Py_BuildValue("{s:O,s:O,s:O}", "server_url", url_obj, "timeout_ms", timeout, "verify", verify);
    if (!reduce_config)
        goto out;
    if ((retries && PyDict_SetItemString(reduce_config, "retries", retries) < 0) ||
        (max_body && max_body != Py_None && PyDict_SetItemString(reduce_config, "max_body_bytes", max_body) < 0) ||
        (batch_default && PyDict_SetItemString(reduce_config, "batch_concurrency", batch_concurrency) < 0))
        goto out;

    char err[256] = "";
    self->core = codat_client_new(&cfg, err, sizeof err);
    if (!self->core) {
        PyErr_SetString(PyExc_ValueError, err[0] ? err : "could not create the client");
        goto out;
    }
    self->module = Py_NewRef(module);
    self->server_url = Py_NewRef(url_obj);
    self->timeout_ms = Py_NewRef(timeout);
    self->has_auth = cfg.auth_header != NULL;
    self->reduce_auth = auth != Py_None ? Py_NewRef(auth) : api_key != Py_None ? Py_NewRef(api_key) : NULL;
    self->reduce_auth_is_api_key = auth == Py_None && api_key != Py_None;
    self->reduce_config = reduce_config;
    reduce_config = NULL;
    self->batch_concurrency = batch_default;
    rc = 0;
out:
    Py_XDECREF(reduce_config);
    Py_XDECREF(url_obj);
    Py_XDECREF(verify_bytes);
    if (auth_owned) {
        memset(auth_owned, 0, auth_owned_len);
        PyMem_Free(auth_owned);
    }
    return rc;
}

static void close_core(ClientObject *self)
{
    if (!self->core)
        return;
    /* Joining the I/O thread may wait for a callback that needs the GIL: release it first. */
    Py_BEGIN_ALLOW_THREADS
    codat_client_close(self->core);
    Py_END_ALLOW_THREADS
}

static PyObject *Client_close(ClientObject *self, PyObject *Py_UNUSED(ignored))
{
    close_core(self);
    Py_RETURN_NONE;
}

static PyObject *Client_enter(ClientObject *self, PyObject *Py_UNUSED(ignored))
{
    if (check_open(self) < 0)
        return NULL;
    return Py_NewRef((PyObject *)self);
}

static PyObject *Client_exit(ClientObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    close_core(self);
    Py_RETURN_FALSE;
}

/* The constructor arguments that rebuild an equivalent fresh client, auth included: used only by
 * codat_platform_c.Client.__reduce__ / __copy__ / __deepcopy__. A closed client refuses, so that a
 * closed one is never brought back to life in a worker by accident. */
static PyObject *Client_reduce_config(ClientObject *self, PyObject *Py_UNUSED(ignored))
{
    if (!self->core || !self->reduce_config) {
        PyErr_SetString(PyExc_ValueError, "cannot pickle or copy an uninitialised Client");
        return NULL;
    }
    if (codat_client_is_closed(self->core)) {
        PyErr_SetString(PyExc_ValueError, "cannot pickle or copy a closed Client: pickle it before close() "
                                          "(or before its with block ends)");
        return NULL;
    }
    PyObject *config = PyDict_Copy(self->reduce_config);
    if (config && self->reduce_auth &&
        PyDict_SetItemString(config, self->reduce_auth_is_api_key ? "api_key" : "auth_header",
                             self->reduce_auth) < 0)
        Py_CLEAR(config);
    return config;
}

static PyObject *Client_repr(ClientObject *self)
{
    /* Never the auth header: only whether there is one. */
    if (!self->core)
        return PyUnicode_FromFormat("<%s (uninitialised)>", Py_TYPE(self)->tp_name);
    return PyUnicode_FromFormat("<%s server_url=%R auth=%s timeout_ms=%R%s>", Py_TYPE(self)->tp_name,
                                self->server_url, self->has_auth ? "'<redacted>'" : "None", self->timeout_ms,
                                codat_client_is_closed(self->core) ? " closed" : "");
}

static PyObject *Client_get_rate_limit(ClientObject *self, void *Py_UNUSED(closure))
{
    if (!self->core)
        Py_RETURN_NONE;
    codat_rate_limit rl;
    codat_client_rate_limit(self->core, &rl);
    if (!rl.known)
        Py_RETURN_NONE;
    return Py_BuildValue("{s:N,s:N,s:N}",
                         "limit", rl.limit >= 0 ? PyLong_FromLong(rl.limit) : Py_NewRef(Py_None),
                         "remaining", rl.remaining >= 0 ? PyLong_FromLong(rl.remaining) : Py_NewRef(Py_None),
                         "reset", rl.reset[0] ? PyUnicode_DecodeUTF8(rl.reset, (Py_ssize_t)strlen(rl.reset),
                                                                     "replace")
                                              : Py_NewRef(Py_None));
}

static PyObject *Client_get_server_url(ClientObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->server_url ? self->server_url : Py_None);
}

static PyObject *Client_get_closed(ClientObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(!self->core || codat_client_is_closed(self->core));
}

static int Client_traverse(ClientObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->module);
    Py_VISIT(self->reduce_config); /* may hold a caller's retries object */
    return 0;
}

static int Client_clear(ClientObject *self)
{
    Py_CLEAR(self->module);
    Py_CLEAR(self->reduce_config);
    return 0;
}

static void Client_dealloc(ClientObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)self);
    if (self->core) {
        /* No call is in flight: each holds a reference to self. This may run on the client's own I/O
         * thread (an async call's completion dropped the last reference): the core then leaves the
         * freeing to that thread, which ends once this completion returns. Closing may wait for the I/O
         * thread, whose completions need the GIL: release it first, as every core lock wants. */
        codat_client *core = self->core;
        self->core = NULL;
        Py_BEGIN_ALLOW_THREADS
        codat_client_free(core); /* closes it first */
        Py_END_ALLOW_THREADS
    }
    Py_CLEAR(self->server_url);
    Py_CLEAR(self->timeout_ms);
    Py_CLEAR(self->reduce_auth);
    Client_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

PyDoc_STRVAR(get_access_token_doc,
"get_access_token($self, company_id, /, *, timeout_ms=..., retries=..., server_url=None, http_headers=None)\n--\n\n"
"GET /companies/{company_id}/connectionManagement/accessToken and return the JSON object, e.g.\n"
"{'accessToken': '...'} (valid one hour, for this company only). Codat has deprecated this endpoint in\n"
"favour of get_company_access_token(). The GIL is released for the whole call, retries included.\n"
"Raises ErrorMessage, SDKError, TransportError or Timeout.");
PyDoc_STRVAR(get_company_access_token_doc,
"get_company_access_token($self, company_id, /, *, timeout_ms=..., retries=..., server_url=None,\n"
"                         http_headers=None)\n--\n\n"
"GET /companies/{company_id}/accessToken and return {'accessToken', 'expiresIn', 'tokenType'}\n"
"(valid one day). Same options and errors as get_access_token().");
/* The default goes into the docstring as digits, so that it cannot drift from the constant. */
#define CODAT_STRINGIFY_(x) #x
#define CODAT_STRINGIFY(x) CODAT_STRINGIFY_(x)
PyDoc_STRVAR(get_access_tokens_doc,
"get_access_tokens($self, company_ids, /, *, concurrency=None, endpoint='connection_management', progress=None,\n"
"                  threads=None, timeout_ms=..., retries=..., server_url=None, http_headers=None)\n--\n\n"
"Fetch tokens for many companies at once on libcurl multi handles (GIL released throughout), at most\n"
"`concurrency` requests in flight (None: the client's batch_concurrency, else DEFAULT_CONCURRENCY = "
    CODAT_STRINGIFY(CODAT_DEFAULT_CONCURRENCY) ", also the async calls' limit). Returns\n"
"{company_id: token dict or the exception that company's call raised}; duplicates are fetched once.\n"
"endpoint='company' uses /companies/{id}/accessToken.\n"
"progress(done, total) is called with the GIL held about every 100 ms and at the end. Ctrl-C cancels\n"
"the whole batch. threads: how many threads (each with its own multi handle and share of the\n"
"connections) drive the batch; None picks up to 4 from the CPUs, for batches of 512 or more.");
PyDoc_STRVAR(close_doc, "close($self, /)\n--\n\nFree pooled connections and stop the I/O thread. Later calls raise ValueError.");

static PyMethodDef Client_methods[] = {
    {"get_access_token", (PyCFunction)(void (*)(void))Client_get_access_token, METH_FASTCALL | METH_KEYWORDS,
     get_access_token_doc},
    {"get_company_access_token", (PyCFunction)(void (*)(void))Client_get_company_access_token,
     METH_FASTCALL | METH_KEYWORDS, get_company_access_token_doc},
    {"get_access_tokens", (PyCFunction)(void (*)(void))Client_get_access_tokens, METH_FASTCALL | METH_KEYWORDS,
     get_access_tokens_doc},
    {"_connection_management_token", (PyCFunction)(void (*)(void))Client_connection_management_token,
     METH_FASTCALL | METH_KEYWORDS, NULL},
    {"_submit_async", (PyCFunction)(void (*)(void))Client_submit_async, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"_cancel_async", (PyCFunction)Client_cancel_async, METH_O, NULL},
    {"close", (PyCFunction)Client_close, METH_NOARGS, close_doc},
    {"_reduce_config", (PyCFunction)Client_reduce_config, METH_NOARGS, NULL},
    {"__enter__", (PyCFunction)Client_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Client_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Client_getset[] = {
    {"rate_limit", (getter)Client_get_rate_limit, NULL,
     "The latest X-Rate-Limit-Limit/Remaining/Reset figures as a dict, or None before any response.", NULL},
    {"server_url", (getter)Client_get_server_url, NULL, "The server this client talks to.", NULL},
    {"closed", (getter)Client_get_closed, NULL, "True once close() ran.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ClientObject, weakreflist), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(Client_doc,
"Client(auth_header=None, *, api_key=None, server_url='https://api.codat.io', timeout_ms=None,\n"
"       retries=..., verify=True, max_body_bytes=4194304, batch_concurrency=None)\n--\n\n"
"A thread-safe Codat Platform API client for access tokens, backed by libcurl. auth_header is sent\n"
"verbatim as Authorization (e.g. 'Basic BASE64(API_KEY)'); api_key builds that header for you.\n"
"timeout_ms bounds each attempt (None: no limit). retries: a RetryConfig (default RetryConfig()); None\n"
"disables retries. verify may be a CA bundle path or a hashed certificate directory. batch_concurrency:\n"
"get_access_tokens' concurrency when a call gives none (None: DEFAULT_CONCURRENCY). Connections are kept alive and reused; close() (or a\n"
"with block) frees them.");

static PyType_Slot client_slots[] = {
    {Py_tp_doc, (void *)Client_doc},
    {Py_tp_init, Client_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Client_dealloc},
    {Py_tp_traverse, Client_traverse},
    {Py_tp_clear, Client_clear},
    {Py_tp_repr, Client_repr},
    {Py_tp_methods, Client_methods},
    {Py_tp_getset, Client_getset},
    {Py_tp_members, Client_members},
    {0, NULL},
};

PyType_Spec client_type_spec = {
    .name = "codat_platform_c._core.Client",
    .basicsize = sizeof(ClientObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = client_slots,
};
