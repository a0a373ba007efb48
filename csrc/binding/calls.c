/* calls.c: the blocking calls. Arguments are checked (args.c) and results converted (errors.c) with the
 * GIL held; the transfer, every retry and every backoff sleep run with it released. */
#include <string.h>
#include "binding.h"

/* ---- one token ---- */

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
    module_state *st = client_state(self);
    call_options co;
    memset(&co, 0, sizeof co);
    if (parse_call_kwargs(st, args + nargs, kwnames, &co, NULL) < 0) {
        call_options_clear(&co);
        return NULL;
    }
    attach_logging(st, &co.opts);
    codat_result result;
    wait_ctx w = {0};
    w.tstate = PyEval_SaveThread();
    codat_get_token(self->core, which, company_id, &co.opts, check_interrupt, &w, &result);
    PyEval_RestoreThread(w.tstate);
    PyObject *ret = NULL;
    if (!w.python_error)
        ret = result_to_return(st, &result);
    codat_result_clear(&result);
    call_options_clear(&co);
    return ret;
}

PyObject *Client_get_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (PyErr_WarnEx(PyExc_DeprecationWarning, CODAT_RETIRED_WARNING, 1) < 0)
        return NULL; /* warnings turned into errors */
    return fetch_one(self, CODAT_EP_CONNECTION_MANAGEMENT, "get_access_token", args, nargs, kwnames);
}

/* The same call without the warning, for codat_platform_c.sdk: its connection_management methods warn with
 * the official SDK's text themselves, and one call should not warn twice. */
PyObject *Client_connection_management_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                             PyObject *kwnames)
{
    return fetch_one(self, CODAT_EP_CONNECTION_MANAGEMENT, "get_access_token", args, nargs, kwnames);
}

PyObject *Client_get_company_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames)
{
    return fetch_one(self, CODAT_EP_COMPANY, "get_company_access_token", args, nargs, kwnames);
}

/* ---- many tokens ---- */

/* get_access_tokens' and _check_batch_args' shared front: the one positional argument, an open client,
 * every argument checked. Returns 0, or -1 with an exception set; batch_args_clear follows either way. */
static int check_batch_call(ClientObject *self, const char *method_name, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames, batch_args *b)
{
    if (nargs != 1) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly one positional argument (company_ids)", method_name);
        return -1;
    }
    if (check_open(self) < 0)
        return -1;
    long concurrency = self->batch_concurrency ? self->batch_concurrency : CODAT_DEFAULT_CONCURRENCY;
    return parse_batch_args(client_state(self), concurrency, args[0], args + nargs, kwnames, b);
}

/* The results, in the order of b->unique, into {company_id: value or exception}. */
static PyObject *batch_results_to_dict(module_state *st, const batch_args *b, const codat_result *results)
{
    PyObject *ret = PyDict_New();
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *unused;
    while (ret && PyDict_Next(b->unique, &pos, &key, &unused)) {
        int is_error;
        PyObject *value = result_to_python(st, &results[i++], &is_error);
        if (!value || PyDict_SetItem(ret, key, value) < 0)
            Py_CLEAR(ret);
        Py_XDECREF(value);
    }
    return ret;
}

/* Runs the checked batch with the GIL released; NULL with an exception when a hook raised. */
static PyObject *run_batch(ClientObject *self, batch_args *b)
{
    module_state *st = client_state(self);
    Py_ssize_t n = PyDict_GET_SIZE(b->unique);
    const char **ids = PyMem_Calloc((size_t)n + 1, sizeof *ids);
    codat_result *results = PyMem_RawCalloc((size_t)n + 1, sizeof *results); /* filled with the GIL released */
    PyObject *ret = NULL;
    if (!ids || !results) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *unused;
    while (PyDict_Next(b->unique, &pos, &key, &unused))
        ids[i++] = PyUnicode_AsUTF8(key); /* cached by company_id_utf8 when it was checked */
    attach_logging(st, &b->co.opts);
    wait_ctx w = {0};
    w.progress = b->progress;
    w.tstate = PyEval_SaveThread();
    codat_get_tokens(self->core, b->which, ids, (size_t)n, (int)b->concurrency, (int)b->threads, &b->co.opts,
                     check_interrupt, report_progress, &w, results);
    PyEval_RestoreThread(w.tstate);
    if (!w.python_error)
        ret = batch_results_to_dict(st, b, results);
done:
    if (results)
        for (Py_ssize_t k = 0; k < n; k++)
            codat_result_clear(&results[k]);
    PyMem_RawFree(results);
    PyMem_Free(ids);
    return ret;
}

PyObject *Client_get_access_tokens(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    batch_args b;
    memset(&b, 0, sizeof b);
    PyObject *ret = NULL;
    if (check_batch_call(self, "get_access_tokens", args, nargs, kwnames, &b) == 0 &&
        /* The batch default stays the endpoint get_access_token asks (switching a caller to the broader
         * company token is not ours to decide), so it warns as get_access_token does. */
        (b.which != CODAT_EP_CONNECTION_MANAGEMENT ||
         PyErr_WarnEx(PyExc_DeprecationWarning, CODAT_RETIRED_WARNING, 1) == 0))
        ret = run_batch(self, &b);
    batch_args_clear(&b);
    return ret;
}

/* _check_batch_args(company_ids, /, **the options of get_access_tokens) -> the company ids to fetch, each
 * once, in first-seen order. Every check get_access_tokens makes, with the same messages, and nothing sent
 * and no warning: for Python callers in front of it (the token cache's get_many). */
PyObject *Client_check_batch_args(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    batch_args b;
    memset(&b, 0, sizeof b);
    PyObject *ret = NULL;
    if (check_batch_call(self, "get_access_tokens", args, nargs, kwnames, &b) == 0)
        ret = PyDict_Keys(b.unique);
    batch_args_clear(&b);
    return ret;
}
