/* errors.c: the exception types (made once per module, kept in its state) and the one mapping from a
 * finished call's result to the value or the exception the caller gets. */
#include <string.h>
#include "binding.h"

/* ---- the types ---- */

static int add_exception(PyObject *module, PyObject **slot, const char *name, const char *doc, PyObject *bases)
{
    char qualified[128];
    snprintf(qualified, sizeof qualified, "codat_platform_c.%s", name);
    *slot = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddObjectRef(module, name, *slot);
}

/* add_exception with a tuple of two bases. */
static int add_exception2(PyObject *module, PyObject **slot, const char *name, const char *doc, PyObject *base1,
                          PyObject *base2)
{
    PyObject *bases = PyTuple_Pack(2, base1, base2);
    if (!bases)
        return -1;
    int rc = add_exception(module, slot, name, doc, bases);
    Py_DECREF(bases);
    return rc;
}

static int set_class_defaults(PyObject *type, const char *const *names)
{
    for (; *names; names++)
        if (PyObject_SetAttrString(type, *names, Py_None) < 0)
            return -1;
    return 0;
}

int errors_setup(PyObject *module, module_state *st)
{
    if (add_exception(module, &st->CodatError, "CodatError",
                      "Base class of every error this package raises for a call that reached no token.",
                      NULL) < 0 ||
        add_exception(module, &st->ErrorMessage, "ErrorMessage",
                      "Codat answered 401, 402, 403, 404, 429, 500 or 503 with a JSON error object.\n"
                      "Attributes: status_code, body, headers, data, service, error, correlation_id, validation,\n"
                      "can_be_retried, detailed_error_code, retry_after (seconds or None), attempts.",
                      st->CodatError) < 0 ||
        add_exception(module, &st->SDKError, "SDKError",
                      "Any other HTTP answer: other 4XX/5XX, a non-JSON error body, a 2XX that is not the promised\n"
                      "JSON object, a 3XX (redirects are never followed), or a body over max_body_bytes.\n"
                      "Attributes: status_code, body, headers, retry_after, attempts.",
                      st->CodatError) < 0 ||
        add_exception2(module, &st->TransportError, "TransportError",
                       "No HTTP answer: connection refused, DNS, TLS failure, reset. Also a ConnectionError.\n"
                       "Attributes: attempts, curl_code.",
                       st->CodatError, PyExc_ConnectionError) < 0 ||
        add_exception2(module, &st->Timeout, "Timeout",
                       "timeout_ms ran out (on the last attempt). Also a TimeoutError.", st->TransportError,
                       PyExc_TimeoutError) < 0)
        return -1;
    static const char *const http_attrs[] = {"status_code", "body", "headers", "data", "service", "error",
                                             "correlation_id", "validation", "can_be_retried",
                                             "detailed_error_code", "retry_after", "attempts", NULL};
    static const char *const transport_attrs[] = {"attempts", "curl_code", NULL};
    if (set_class_defaults(st->ErrorMessage, http_attrs) < 0 || set_class_defaults(st->SDKError, http_attrs) < 0 ||
        set_class_defaults(st->TransportError, transport_attrs) < 0)
        return -1;
    return 0;
}

/* ---- raised by the binding itself ---- */

int check_open(ClientObject *self)
{
    if (!self->core || codat_client_is_closed(self->core)) {
        PyErr_SetString(PyExc_ValueError, "Client is closed");
        return -1;
    }
    return 0;
}

/* ---- results to exceptions ---- */

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
    PyObject *data = json_to_python(st, r->json);
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
        return json_to_python(st, r->json);
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
