/* module.c: the codat_platform_c._core extension module: multi-phase init (PEP 489), per-module state
 * holding the exception types and the Client type, so that sub-interpreters and reloads stay apart. */
#include <string.h>
#include "binding.h"
#include <curl/curl.h>

#ifndef CODAT_VERSION
#define CODAT_VERSION "0.0.0"
#endif

static int add_exception(PyObject *module, PyObject **slot, const char *name, const char *doc, PyObject *bases)
{
    char qualified[128];
    snprintf(qualified, sizeof qualified, "codat_platform_c.%s", name);
    *slot = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
    if (!*slot)
        return -1;
    return PyModule_AddObjectRef(module, name, *slot);
}

static int set_class_defaults(PyObject *type, const char *const *names)
{
    for (; *names; names++)
        if (PyObject_SetAttrString(type, *names, Py_None) < 0)
            return -1;
    return 0;
}

static int codat_exec(PyObject *module)
{
    module_state *st = get_module_state(module);
    if (codat_global_init() != 0) {
        PyErr_SetString(PyExc_ImportError, "libcurl failed to initialise");
        return -1;
    }
    curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
    snprintf(st->user_agent, sizeof st->user_agent, "codat-platform-c/%s libcurl/%s python/%d.%d.%d",
             CODAT_VERSION, info ? info->version : "?", PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MICRO_VERSION);

    PyObject *bases = NULL;
    if (add_exception(module, &st->CodatError, "CodatError",
                      "Base class of every error this package raises for a call that reached no token.",
                      NULL) < 0)
        return -1;
    if (add_exception(module, &st->ErrorMessage, "ErrorMessage",
                      "Codat answered 401, 402, 403, 404, 429, 500 or 503 with a JSON error object.\n"
                      "Attributes: status_code, body, headers, data, service, error, correlation_id, validation,\n"
                      "can_be_retried, detailed_error_code, retry_after (seconds or None), attempts.",
                      st->CodatError) < 0)
        return -1;
    if (add_exception(module, &st->SDKError, "SDKError",
                      "Any other HTTP answer: other 4XX/5XX, a non-JSON error body, a 2XX that is not the promised\n"
                      "JSON object, a 3XX (redirects are never followed), or a body over max_body_bytes.\n"
                      "Attributes: status_code, body, headers, retry_after, attempts.",
                      st->CodatError) < 0)
        return -1;
    bases = PyTuple_Pack(2, st->CodatError, PyExc_ConnectionError);
    if (!bases || add_exception(module, &st->TransportError, "TransportError",
                                "No HTTP answer: connection refused, DNS, TLS failure, reset. Also a ConnectionError.\n"
                                "Attributes: attempts, curl_code.",
                                bases) < 0) {
        Py_XDECREF(bases);
        return -1;
    }
    Py_DECREF(bases);
    bases = PyTuple_Pack(2, st->TransportError, PyExc_TimeoutError);
    if (!bases || add_exception(module, &st->Timeout, "Timeout",
                                "timeout_ms ran out (on the last attempt). Also a TimeoutError.", bases) < 0) {
        Py_XDECREF(bases);
        return -1;
    }
    Py_DECREF(bases);
    static const char *const http_attrs[] = {"status_code", "body", "headers", "data", "service", "error",
                                             "correlation_id", "validation", "can_be_retried",
                                             "detailed_error_code", "retry_after", "attempts", NULL};
    static const char *const transport_attrs[] = {"attempts", "curl_code", NULL};
    if (set_class_defaults(st->ErrorMessage, http_attrs) < 0 || set_class_defaults(st->SDKError, http_attrs) < 0 ||
        set_class_defaults(st->TransportError, transport_attrs) < 0)
        return -1;

    st->str_logging = PyUnicode_InternFromString("logging");
    if (!st->str_logging)
        return -1;
    st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_type_spec, NULL);
    if (!st->client_type || PyModule_AddType(module, st->client_type) < 0 || async_calls_exec(module) < 0)
        return -1;
    if (PyModule_AddStringConstant(module, "__version__", CODAT_VERSION) < 0 ||
        PyModule_AddStringConstant(module, "USER_AGENT", st->user_agent) < 0 ||
        PyModule_AddStringConstant(module, "LIBCURL_VERSION", info ? info->version : "?") < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_CONCURRENCY", CODAT_DEFAULT_CONCURRENCY) < 0 ||
        PyModule_AddStringConstant(module, "_RETIRED_WARNING", CODAT_RETIRED_WARNING) < 0 ||
        PyModule_AddStringConstant(module, "_RETIRED_DATE", CODAT_RETIRED_DATE) < 0)
        return -1;
    return 0;
}

static int codat_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = get_module_state(module);
    Py_VISIT(st->client_type);
    Py_VISIT(st->CodatError);
    Py_VISIT(st->ErrorMessage);
    Py_VISIT(st->SDKError);
    Py_VISIT(st->TransportError);
    Py_VISIT(st->Timeout);
    Py_VISIT(st->logger);
    return 0;
}

static int codat_clear(PyObject *module)
{
    module_state *st = get_module_state(module);
    Py_CLEAR(st->client_type);
    Py_CLEAR(st->CodatError);
    Py_CLEAR(st->ErrorMessage);
    Py_CLEAR(st->SDKError);
    Py_CLEAR(st->TransportError);
    Py_CLEAR(st->Timeout);
    Py_CLEAR(st->logger);
    Py_CLEAR(st->str_logging);
    return 0;
}

static void codat_free(void *module)
{
    codat_clear((PyObject *)module);
}

static PyObject *py_encode_segment(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_ssize_t len;
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "expected str");
        return NULL;
    }
    const char *s = PyUnicode_AsUTF8AndSize(arg, &len);
    if (!s)
        return NULL;
    char *enc = codat_encode_segment(s, (size_t)len);
    if (!enc)
        return PyErr_NoMemory();
    PyObject *r = PyUnicode_FromString(enc);
    free(enc);
    return r;
}

static PyMethodDef codat_methods[] = {
    {"_encode_segment", py_encode_segment, METH_O, "Percent-encode a str as one URL path segment (the core's)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot codat_slots[] = {
    {Py_mod_exec, codat_exec},
    {0, NULL},
};

PyModuleDef codat_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "codat_platform_c._core",
    .m_doc = "C core of codat_platform_c: libcurl + cJSON, with the GIL released during all I/O.",
    .m_size = sizeof(module_state),
    .m_methods = codat_methods,
    .m_slots = codat_slots,
    .m_traverse = codat_traverse,
    .m_clear = codat_clear,
    .m_free = codat_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&codat_module_def);
}
