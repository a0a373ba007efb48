/* client_type.c: the Client heap type and its life cycle: init, close, the context manager, pickling,
 * repr and properties, traverse/clear/dealloc. Its calls are in calls.c and async_calls.c, its argument
 * checks in args.c. */
#include <string.h>
#include "binding.h"
#include "../core/netaddr.h"
#include <structmember.h>

/* ---- init ---- */

/* Codat's per-company limit, from the class (codat_platform_c.Client says 10; a subclass may say less):
 * the core holds every call of this client to it, threads, batches and async calls alike. */
static int read_company_limit(ClientObject *self, unsigned *out)
{
    PyObject *limit = PyObject_GetAttrString((PyObject *)self, "company_concurrency_limit");
    if (!limit) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return -1;
        PyErr_Clear();
        return 0;
    }
    long v;
    int bad = parse_bounded_int(limit, "company_concurrency_limit", 1, 1000, &v);
    Py_DECREF(limit);
    if (bad)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* What pickling and copying rebuild the client from: the arguments as given (checked), but no secret. */
static PyObject *make_reduce_config(const client_kwargs *in, const client_config *c)
{
    PyObject *config = Py_BuildValue("{s:O,s:O,s:O}", "server_url", c->server_url, "timeout_ms", in->timeout,
                                     "verify", in->verify);
    if (config && ((in->retries && PyDict_SetItemString(config, "retries", in->retries) < 0) ||
                   (in->max_body && in->max_body != Py_None &&
                    PyDict_SetItemString(config, "max_body_bytes", in->max_body) < 0) ||
                   (c->batch_concurrency &&
                    PyDict_SetItemString(config, "batch_concurrency", in->batch_concurrency) < 0)))
        Py_CLEAR(config);
    return config;
}

/* Everything but the core, once it exists. */
static void keep_config(ClientObject *self, PyObject *module, const client_kwargs *in, const client_config *c,
                        PyObject *reduce_config)
{
    self->module = Py_NewRef(module);
    self->server_url = Py_NewRef(c->server_url);
    self->timeout_ms = Py_NewRef(in->timeout);
    self->has_auth = c->cfg.auth_header != NULL;
    self->reduce_auth = in->auth != Py_None      ? Py_NewRef(in->auth)
                        : in->api_key != Py_None ? Py_NewRef(in->api_key)
                                                 : NULL;
    self->reduce_auth_is_api_key = in->auth == Py_None && in->api_key != Py_None;
    self->reduce_config = reduce_config;
    self->batch_concurrency = c->batch_concurrency;
}

static int Client_init(ClientObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"auth_header", "api_key", "server_url", "timeout_ms", "retries", "verify",
                             "max_body_bytes", "batch_concurrency", NULL};
    client_kwargs in = {Py_None, Py_None, NULL, Py_None, NULL, Py_True, NULL, Py_None};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O$OOOOOOO:Client", kwlist, &in.auth, &in.api_key,
                                     &in.server_url, &in.timeout, &in.retries, &in.verify, &in.max_body,
                                     &in.batch_concurrency))
        return -1;
    if (self->core) {
        PyErr_SetString(PyExc_RuntimeError, "Client is already initialised");
        return -1;
    }
    PyObject *module = PyType_GetModuleByDef(Py_TYPE(self), &codat_module_def);
    if (!module)
        return -1;
    client_config c;
    memset(&c, 0, sizeof c);
    PyObject *reduce_config = NULL;
    int rc = -1;
    if (parse_client_config(get_module_state(module), &in, &c) < 0)
        goto out;
    if (c.cfg.auth_header && codat_is_plain_http(c.cfg.server_url) && !codat_is_loopback_http(c.cfg.server_url) &&
        PyErr_WarnEx(PyExc_UserWarning,
                     "server_url uses plain http:// to a non-loopback host: the auth header would travel "
                     "unencrypted", 1) < 0)
        goto out;
    if (read_company_limit(self, &c.cfg.company_limit) < 0 || !(reduce_config = make_reduce_config(&in, &c)))
        goto out;
    char err[256] = "";
    self->core = codat_client_new(&c.cfg, err, sizeof err);
    if (!self->core) {
        PyErr_SetString(PyExc_ValueError, err[0] ? err : "could not create the client");
        goto out;
    }
    keep_config(self, module, &in, &c, reduce_config);
    reduce_config = NULL;
    rc = 0;
out:
    Py_XDECREF(reduce_config);
    client_config_clear(&c);
    return rc;
}

/* ---- close, context manager, pickling ---- */

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


/* ---- the type ---- */

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
    {"_check_batch_args", (PyCFunction)(void (*)(void))Client_check_batch_args, METH_FASTCALL | METH_KEYWORDS,
     NULL},
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
"Client(auth_header=None, *, api_key=None, server_url='" CODAT_DEFAULT_SERVER_URL "', timeout_ms=None,\n"
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

static PyType_Spec client_type_spec = {
    .name = "codat_platform_c._core.Client",
    .basicsize = sizeof(ClientObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = client_slots,
};

int client_type_setup(PyObject *module, module_state *st)
{
    st->client_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &client_type_spec, NULL);
    if (!st->client_type || PyModule_AddType(module, st->client_type) < 0)
        return -1;
    return 0;
}
