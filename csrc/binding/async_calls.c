/* async_calls.c: Client._submit_async / _cancel_async, a call run by the client's I/O thread (io_thread.c)
 * with its result handed to a callback there. codat_platform_c's awaits use _LoopDriver (loop_driver.c)
 * instead; these stay for callers without an event loop and for comparison (bench/async_bench.py). */
#include <string.h>
#include "binding.h"

typedef struct {
    PyObject *callback;      /* callable(value, is_error) */
    PyObject *client;        /* keeps the client, and through it the core and module, alive */
} async_ctx;

/* Runs on the client's I/O thread, which holds no Python state of its own: PyGILState_Ensure gives it
 * one for the duration. */
static void async_done(void *p, codat_result *r)
{
    async_ctx *ctx = p;
    PyGILState_STATE g = PyGILState_Ensure();
    ClientObject *self = (ClientObject *)ctx->client;
    int is_error = 1;
    PyObject *value = result_to_python(client_state(self), r, &is_error);
    codat_result_clear(r);
    free(r);
    if (!value) {
        /* The conversion failed: hand the failure itself to the waiter. */
        PyObject *type, *exc, *tb;
        PyErr_Fetch(&type, &exc, &tb);
        PyErr_NormalizeException(&type, &exc, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        value = exc;
        is_error = 1;
    }
    PyObject *res = value ? PyObject_CallFunction(ctx->callback, "Oi", value, is_error) : NULL;
    if (!res)
        PyErr_WriteUnraisable(ctx->callback);
    Py_XDECREF(res);
    Py_XDECREF(value);
    Py_DECREF(ctx->callback);
    Py_DECREF(ctx->client);
    PyMem_RawFree(ctx);
    PyGILState_Release(g);
}

PyObject *Client_submit_async(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    /* _submit_async(endpoint, company_id, callback, **options) -> call id */
    codat_endpoint which;
    const char *company_id;
    if (parse_async_target(args, nargs, "_submit_async(endpoint, company_id, callback, **options)", &which,
                           &company_id) < 0 ||
        check_open(self) < 0)
        return NULL;
    if (!PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    call_options co;
    memset(&co, 0, sizeof co);
    if (parse_call_kwargs(client_state(self), args + nargs, kwnames, &co, NULL) < 0) {
        call_options_clear(&co);
        return NULL;
    }
    attach_logging(client_state(self), &co.opts);
    async_ctx *ctx = PyMem_RawMalloc(sizeof *ctx);
    if (!ctx) {
        call_options_clear(&co);
        return PyErr_NoMemory();
    }
    ctx->callback = Py_NewRef(args[2]);
    ctx->client = Py_NewRef((PyObject *)self);
    char err[128] = "";
    unsigned long long id;
    /* Submitting takes the client's lock, which the I/O thread holds only briefly and never while waiting
     * for the GIL; still, release the GIL first ("release the GIL, then take the C lock"). */
    Py_BEGIN_ALLOW_THREADS
    id = codat_get_token_async(self->core, which, company_id, &co.opts, async_done, ctx, err, sizeof err);
    Py_END_ALLOW_THREADS
    call_options_clear(&co);
    if (id == 0) {
        Py_DECREF(ctx->callback);
        Py_DECREF(ctx->client);
        PyMem_RawFree(ctx);
        /* close() on another thread may have come between check_open and the submission */
        if (codat_client_is_closed(self->core))
            PyErr_SetString(PyExc_ValueError, "Client is closed");
        else
            PyErr_SetString(PyExc_RuntimeError, err[0] ? err : "could not start the call");
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(id);
}

PyObject *Client_cancel_async(ClientObject *self, PyObject *arg)
{
    unsigned long long id = PyLong_AsUnsignedLongLong(arg);
    if (id == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (self->core) {
        Py_BEGIN_ALLOW_THREADS
        codat_async_cancel(self->core, id);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}
