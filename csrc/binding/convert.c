/* convert.c: C values to Python values and back, with the GIL held. Python objects are only ever made
 * here, after a transfer has finished. */
#include <string.h>
#include <strings.h>
#include <math.h>
#include "binding.h"

#define MAX_COMPANY_ID_BYTES 1024

PyObject *json_to_python(const cJSON *item)
{
    if (cJSON_IsObject(item)) {
        PyObject *dict = PyDict_New();
        if (!dict)
            return NULL;
        for (const cJSON *child = item->child; child; child = child->next) {
            PyObject *value = json_to_python(child);
            if (!value) {
                Py_DECREF(dict);
                return NULL;
            }
            /* Duplicate keys: the last one wins, as in Python's json module. */
            int rc = PyDict_SetItemString(dict, child->string ? child->string : "", value);
            Py_DECREF(value);
            if (rc < 0) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        return dict;
    }
    if (cJSON_IsArray(item)) {
        PyObject *list = PyList_New(0);
        if (!list)
            return NULL;
        for (const cJSON *child = item->child; child; child = child->next) {
            PyObject *value = json_to_python(child);
            if (!value || PyList_Append(list, value) < 0) {
                Py_XDECREF(value);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(value);
        }
        return list;
    }
    if (cJSON_IsString(item))
        return PyUnicode_DecodeUTF8(item->valuestring, (Py_ssize_t)strlen(item->valuestring), "replace");
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        /* Integers stay int (expiresIn, statusCode); cJSON keeps them as doubles. */
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
            return PyLong_FromLongLong((long long)d);
        return PyFloat_FromDouble(d);
    }
    if (cJSON_IsBool(item))
        return PyBool_FromLong(cJSON_IsTrue(item));
    Py_RETURN_NONE;
}

PyObject *headers_to_dict(const char *raw, size_t len)
{
    PyObject *dict = PyDict_New();
    if (!dict || !raw)
        return dict;
    const char *p = raw, *end = raw + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && colon > p && memcmp(p, "HTTP/", 5) != 0) {
            const char *v = colon + 1;
            const char *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            PyObject *name = PyUnicode_DecodeLatin1(p, colon - p, NULL);
            PyObject *lower = name ? PyObject_CallMethod(name, "lower", NULL) : NULL;
            PyObject *value = PyUnicode_DecodeLatin1(v, ve - v, NULL);
            Py_XDECREF(name);
            if (!lower || !value) {
                Py_XDECREF(lower);
                Py_XDECREF(value);
                Py_DECREF(dict);
                return NULL;
            }
            /* A repeated name collects its values in a list, joined once at the end: joining as they come
             * would copy the growing string for each of up to ~40,000 repeats (libcurl's 300 KB of
             * headers), seconds of CPU with the GIL held. */
            PyObject *prev = PyDict_GetItemWithError(dict, lower);
            int rc;
            if (prev && PyList_CheckExact(prev)) {
                rc = PyList_Append(prev, value);
            } else if (prev) {
                PyObject *values = PyList_New(2);
                if (values) {
                    PyList_SET_ITEM(values, 0, Py_NewRef(prev));
                    PyList_SET_ITEM(values, 1, Py_NewRef(value));
                }
                rc = values ? PyDict_SetItem(dict, lower, values) : -1;
                Py_XDECREF(values);
            } else {
                rc = PyErr_Occurred() ? -1 : PyDict_SetItem(dict, lower, value);
            }
            Py_DECREF(lower);
            Py_DECREF(value);
            if (rc < 0) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        p = line_end + 1;
    }
    PyObject *separator = PyUnicode_FromString(", ");
    if (!separator) {
        Py_DECREF(dict);
        return NULL;
    }
    Py_ssize_t pos = 0;
    PyObject *name, *values;
    while (PyDict_Next(dict, &pos, &name, &values)) {
        if (!PyList_CheckExact(values))
            continue;
        PyObject *joined = PyUnicode_Join(separator, values);
        /* replacing the value of a key already there: allowed while iterating */
        if (!joined || PyDict_SetItem(dict, name, joined) < 0) {
            Py_XDECREF(joined);
            Py_DECREF(separator);
            Py_DECREF(dict);
            return NULL;
        }
        Py_DECREF(joined);
    }
    Py_DECREF(separator);
    return dict;
}

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    if (!value)
        return -1;
    int rc = PyObject_SetAttrString(obj, name, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *dict_get_or_none(PyObject *dict, const char *key)
{
    PyObject *v = dict ? PyDict_GetItemString(dict, key) : NULL;
    if (!v)
        v = Py_None;
    return Py_NewRef(v);
}

static PyObject *body_text(const codat_result *r)
{
    return PyUnicode_DecodeUTF8(r->body ? r->body : "", (Py_ssize_t)r->body_len, "replace");
}

/* The reason phrase of the final response's status line ("HTTP/1.1 400 Invalid company" -> "Invalid
 * company"), as the server sent it: Codat puts its own text there, and the official SDK's SDKError shows
 * it. Empty over HTTP/2 (which has none) and when the server sent none. The header block starts with the
 * status line (the core restarts it at each one); at most 127 bytes are kept. */
static void status_reason(const codat_result *r, char *out, size_t cap)
{
    out[0] = '\0';
    if (!r->headers || r->headers_len < 5 || memcmp(r->headers, "HTTP/", 5) != 0)
        return;
    const char *end = memchr(r->headers, '\n', r->headers_len);
    if (!end)
        end = r->headers + r->headers_len;
    const char *p = memchr(r->headers, ' ', (size_t)(end - r->headers)); /* after the version */
    if (!p)
        return;
    while (p < end && *p == ' ')
        p++;
    while (p < end && *p >= '0' && *p <= '9') /* the status code */
        p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t n = 0;
    for (; p < end && n + 1 < cap; p++)
        /* printable ASCII only: no control characters in a message, and always valid UTF-8 */
        out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    out[n] = '\0';
}

/* The first part of the body, for messages: one line, bounded. */
static PyObject *body_excerpt(const codat_result *r)
{
    size_t n = r->body_len < 200 ? r->body_len : 200;
    PyObject *text = PyUnicode_DecodeUTF8(r->body ? r->body : "", (Py_ssize_t)n, "replace");
    if (!text)
        return NULL;
    PyObject *flat = PyObject_CallMethod(text, "replace", "ss", "\n", " ");
    Py_DECREF(text);
    if (flat && r->body_len > n) {
        PyObject *more = PyUnicode_FromFormat("%U...", flat);
        Py_DECREF(flat);
        flat = more;
    }
    return flat;
}

static PyObject *make_http_error(PyObject *type, PyObject *message, const codat_result *r, PyObject *data)
{
    PyObject *exc = PyObject_CallOneArg(type, message);
    if (!exc)
        return NULL;
    char reason[128];
    status_reason(r, reason, sizeof reason);
    if (set_attr(exc, "status_code", PyLong_FromLong(r->status)) < 0 ||
        set_attr(exc, "reason", PyUnicode_DecodeLatin1(reason, (Py_ssize_t)strlen(reason), NULL)) < 0 ||
        set_attr(exc, "body", body_text(r)) < 0 ||
        set_attr(exc, "headers", headers_to_dict(r->headers, r->headers_len)) < 0 ||
        set_attr(exc, "retry_after", r->retry_after_s >= 0 ? PyFloat_FromDouble(r->retry_after_s)
                                                           : Py_NewRef(Py_None)) < 0 ||
        set_attr(exc, "attempts", PyLong_FromLong(r->attempts)) < 0)
        goto fail;
    if (data) {
        if (set_attr(exc, "data", Py_NewRef(data)) < 0 ||
            set_attr(exc, "service", dict_get_or_none(data, "service")) < 0 ||
            set_attr(exc, "error", dict_get_or_none(data, "error")) < 0 ||
            set_attr(exc, "correlation_id", dict_get_or_none(data, "correlationId")) < 0 ||
            set_attr(exc, "validation", dict_get_or_none(data, "validation")) < 0 ||
            set_attr(exc, "can_be_retried", dict_get_or_none(data, "canBeRetried")) < 0 ||
            set_attr(exc, "detailed_error_code", dict_get_or_none(data, "detailedErrorCode")) < 0)
            goto fail;
    }
    return exc;
fail:
    Py_DECREF(exc);
    return NULL;
}

static PyObject *error_message_exc(module_state *st, const codat_result *r)
{
    PyObject *data = json_to_python(r->json);
    if (!data)
        return NULL;
    PyObject *error = PyDict_GetItemString(data, "error");
    PyObject *correlation = PyDict_GetItemString(data, "correlationId");
    PyObject *message;
    if (error && PyUnicode_Check(error) && correlation && PyUnicode_Check(correlation))
        message = PyUnicode_FromFormat("%ld %U (correlation id %U)", r->status, error, correlation);
    else if (error && PyUnicode_Check(error))
        message = PyUnicode_FromFormat("%ld %U", r->status, error);
    else
        message = PyUnicode_FromFormat("%ld error", r->status);
    if (message && r->status == 404 && r->endpoint == CODAT_EP_CONNECTION_MANAGEMENT) {
        /* Since Codat retired the endpoint, this is what every call to it gets: say so, and what to use. */
        PyObject *longer = PyUnicode_FromFormat("%U: %s", message, CODAT_RETIRED_404_NOTE);
        Py_SETREF(message, longer);
    }
    PyObject *exc = message ? make_http_error(st->ErrorMessage, message, r, data) : NULL;
    Py_XDECREF(message);
    Py_DECREF(data);
    return exc;
}

static const char *sdk_error_reason(const codat_result *r)
{
    if (r->body_too_large)
        return r->message;
    if (r->status >= 300 && r->status < 400)
        return "redirect not followed (the Authorization header stays with the configured server)";
    if (r->status >= 200 && r->status < 300)
        return r->message[0] ? r->message : "unexpected response body (expected a JSON object)";
    if (r->status < 200)
        return "unexpected informational response";
    return "API error occurred";
}

static PyObject *sdk_error_exc(module_state *st, const codat_result *r)
{
    PyObject *excerpt = body_excerpt(r);
    if (!excerpt)
        return NULL;
    char reason[128];
    status_reason(r, reason, sizeof reason);
    PyObject *message = PyUnicode_FromFormat("%s: status %ld%s%s, body: %U", sdk_error_reason(r), r->status,
                                             reason[0] ? " " : "", reason, excerpt);
    Py_DECREF(excerpt);
    if (!message)
        return NULL;
    PyObject *exc = make_http_error(st->SDKError, message, r, NULL);
    Py_DECREF(message);
    return exc;
}

static PyObject *transport_exc(PyObject *type, const codat_result *r)
{
    PyObject *message = r->attempts > 1
        ? PyUnicode_FromFormat("%s (after %d attempts)", r->message, r->attempts)
        : PyUnicode_FromString(r->message);
    if (!message)
        return NULL;
    PyObject *exc = PyObject_CallOneArg(type, message);
    Py_DECREF(message);
    if (exc && (set_attr(exc, "attempts", PyLong_FromLong(r->attempts)) < 0 ||
                set_attr(exc, "curl_code", PyLong_FromLong(r->curl_code)) < 0))
        Py_CLEAR(exc);
    return exc;
}

PyObject *result_to_python(module_state *st, const codat_result *r, int *is_error)
{
    *is_error = 1;
    switch (r->outcome) {
    case CODAT_OK:
        *is_error = 0;
        return json_to_python(r->json);
    case CODAT_ERROR_MESSAGE:
        return error_message_exc(st, r);
    case CODAT_SDK_ERROR:
        return sdk_error_exc(st, r);
    case CODAT_TIMEOUT:
        return transport_exc(st->Timeout, r);
    case CODAT_TRANSPORT:
        return transport_exc(st->TransportError, r);
    case CODAT_CANCELLED:
        return PyObject_CallFunction(st->CodatError, "s", "call cancelled");
    case CODAT_NO_MEMORY:
        return PyObject_CallNoArgs(PyExc_MemoryError);
    case CODAT_BAD_INPUT:
    default:
        return PyObject_CallFunction(PyExc_ValueError, "s", r->message);
    }
}

PyObject *result_to_return(module_state *st, const codat_result *r)
{
    int is_error;
    PyObject *value = result_to_python(st, r, &is_error);
    if (!value || !is_error)
        return value;
    PyErr_SetObject((PyObject *)Py_TYPE(value), value);
    Py_DECREF(value);
    return NULL;
}

static int get_long_attr(PyObject *obj, const char *name, long min, long *out)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (!v)
        return -1;
    if (!PyLong_Check(v) || PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "RetryConfig.%s must be an int, not %.100s", name, Py_TYPE(v)->tp_name);
        Py_DECREF(v);
        return -1;
    }
    long x = PyLong_AsLong(v);
    Py_DECREF(v);
    if (x == -1 && PyErr_Occurred()) {
        char what[64];
        snprintf(what, sizeof what, "RetryConfig.%s", name);
        return overflow_to_value_error(what);
    }
    if (x < min) {
        PyErr_Format(PyExc_ValueError, "RetryConfig.%s must be >= %ld", name, min);
        return -1;
    }
    *out = x;
    return 0;
}

int retry_from_python(PyObject *obj, codat_retry_cfg *cfg)
{
    if (obj == Py_None) {
        memset(cfg, 0, sizeof *cfg);
        cfg->enabled = 0;
        return 0;
    }
    if (!PyObject_HasAttrString(obj, "status_codes") || !PyObject_HasAttrString(obj, "initial_interval_ms")) {
        PyErr_Format(PyExc_TypeError, "retries must be a RetryConfig or None, not %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    codat_retry_defaults(cfg);
    memset(cfg->retry_status, 0, sizeof cfg->retry_status);
    if (get_long_attr(obj, "initial_interval_ms", 0, &cfg->initial_interval_ms) < 0 ||
        get_long_attr(obj, "max_interval_ms", 0, &cfg->max_interval_ms) < 0 ||
        get_long_attr(obj, "max_elapsed_ms", 0, &cfg->max_elapsed_ms) < 0)
        return -1;
    PyObject *exp = PyObject_GetAttrString(obj, "exponent");
    if (!exp)
        return -1;
    cfg->exponent = PyFloat_AsDouble(exp);
    Py_DECREF(exp);
    if (cfg->exponent == -1 && PyErr_Occurred())
        return overflow_to_value_error("RetryConfig.exponent");
    if (!(cfg->exponent >= 1.0) || !isfinite(cfg->exponent)) {
        PyErr_SetString(PyExc_ValueError, "RetryConfig.exponent must be a finite number >= 1");
        return -1;
    }
    PyObject *rce = PyObject_GetAttrString(obj, "retry_connection_errors");
    if (!rce)
        return -1;
    int truth = PyObject_IsTrue(rce);
    Py_DECREF(rce);
    if (truth < 0)
        return -1;
    cfg->retry_connection_errors = truth;
    PyObject *codes = PyObject_GetAttrString(obj, "status_codes");
    if (!codes)
        return -1;
    PyObject *seq = PySequence_Fast(codes, "RetryConfig.status_codes must be a sequence of str such as \"429\" or \"5XX\"");
    Py_DECREF(codes);
    if (!seq)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *text = PyLong_Check(item) ? PyObject_Str(item) : Py_NewRef(item);
        const char *s = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
        if (!s || codat_retry_add_status(cfg, s) != 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError,
                             "RetryConfig.status_codes: %R is not a status code or pattern like \"5XX\"", item);
            Py_XDECREF(text);
            Py_DECREF(seq);
            return -1;
        }
        Py_DECREF(text);
    }
    Py_DECREF(seq);
    return 0;
}

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
