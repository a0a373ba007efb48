/* loop_driver.c: _LoopDriver, the awaits' way of running asynchronous calls: libcurl driven from the
 * caller's asyncio event loop through the core's evloop.c, all on the loop's thread with the GIL held;
 * the loop watches one descriptor of the core's (loop.add_reader, while calls are in flight and a moment
 * after); results are set on the caller's future directly. (async_calls.c keeps the older way, a call run by the
 * client's I/O thread with its result handed to a callback; bench/async_bench.py measures one against the
 * other.) */
#include <errno.h>
#include <string.h>
#include "binding.h"
#include "../core/evloop.h"

typedef struct {
    PyObject_HEAD
    codat_evloop *ev;
    PyObject *module;           /* its state holds the exception types results become */
    PyObject *loop;
    PyObject *add_reader, *remove_reader; /* the loop's */
    PyObject *str_set_result, *str_set_exception;
    int loop_gone;              /* the loop is closed (or unreachable garbage): nothing is asked of it and
                                 * no future of it is set any more */
    PyObject *interrupt;        /* a KeyboardInterrupt (any non-Exception) met inside a hook: re-raised once
                                 * the driver is out of libcurl, from the loop callback that ran it */
} LoopDriver;

/* Drops the pending exception, except one that is not an Exception (KeyboardInterrupt from a signal
 * handler that ran inside a hook's Python call): that one is kept for after_entry to raise. */
static void drop_error(LoopDriver *d)
{
    if (!d->interrupt && !PyErr_ExceptionMatches(PyExc_Exception)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (value && tb)
            PyException_SetTraceback(value, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        d->interrupt = value;
        return;
    }
    PyErr_Clear();
}

/* Watches the core's one descriptor (evloop_fd) with our _ready as the callback, or stops: 0, or -1 when
 * the loop refused (the core then ends the calls in flight with TransportError). */
static int hook_watch(void *ctx, int watch)
{
    LoopDriver *d = ctx;
    if (d->loop_gone)
        return watch ? -1 : 0;
    PyObject *fd = PyLong_FromLong(evloop_fd(d->ev));
    PyObject *cb = watch && fd ? PyObject_GetAttrString((PyObject *)d, "_ready") : NULL;
    PyObject *r = NULL;
    if (fd && (cb || !watch)) {
        PyObject *args[2] = {fd, cb};
        r = PyObject_Vectorcall(watch ? d->add_reader : d->remove_reader, args, watch ? 2 : 1, NULL);
    }
    Py_XDECREF(fd);
    Py_XDECREF(cb);
    if (!r) {
        drop_error(d);
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

/* Settles the caller's future, unless the call was cancelled (the future is done) or its loop is gone. */
static void hook_done(void *ctx, void *call_ctx, codat_result *r)
{
    LoopDriver *d = ctx;
    PyObject *future = call_ctx;
    int is_error = 1;
    PyObject *value = result_to_python(get_module_state(d->module), r, &is_error);
    codat_result_clear(r);
    free(r);
    if (!value) {
        PyObject *type, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        is_error = 1;
    }
    if (value && !d->loop_gone) {
        PyObject *r2 = PyObject_CallMethodOneArg(future, is_error ? d->str_set_exception : d->str_set_result, value);
        if (!r2)
            drop_error(d); /* cancelled meanwhile (InvalidStateError), or its loop closed */
        Py_XDECREF(r2);
    }
    Py_XDECREF(value);
    Py_DECREF(future);
}

static const codat_evloop_hooks driver_hooks = {hook_watch, hook_done};

/* After every entry from the loop: a loop that is gone cannot drive these calls, so end them now
 * (TransportError) and give their slots back; a KeyboardInterrupt met inside a hook is raised. */
static PyObject *after_entry(LoopDriver *d)
{
    if (d->loop_gone && d->ev && evloop_calls(d->ev) > 0)
        evloop_abort_all(d->ev, CODAT_TRANSPORT, "the event loop refused to watch the connection");
    if (d->interrupt) {
        PyObject *exc = d->interrupt;
        d->interrupt = NULL;
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *LoopDriver_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *client, *loop;
    if (!PyArg_ParseTuple(args, "OO:_LoopDriver", &client, &loop) || (kwds && PyDict_GET_SIZE(kwds))) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "_LoopDriver(client, loop) takes no keyword arguments");
        return NULL;
    }
    PyObject *module = PyType_GetModule(type);
    if (!module)
        return NULL;
    if (!PyObject_TypeCheck(client, get_module_state(module)->client_type)) {
        PyErr_SetString(PyExc_TypeError, "_LoopDriver(client, loop): client must be a Client");
        return NULL;
    }
    ClientObject *c = (ClientObject *)client;
    if (check_open(c) < 0)
        return NULL;
    LoopDriver *d = (LoopDriver *)type->tp_alloc(type, 0);
    if (!d)
        return NULL;
    d->module = Py_NewRef(c->module);
    d->loop = Py_NewRef(loop);
    if (!(d->add_reader = PyObject_GetAttrString(loop, "add_reader")) ||
        !(d->remove_reader = PyObject_GetAttrString(loop, "remove_reader")) ||
        !(d->str_set_result = PyUnicode_InternFromString("set_result")) ||
        !(d->str_set_exception = PyUnicode_InternFromString("set_exception")))
        goto fail;
    d->ev = evloop_new(c->core, &driver_hooks, d);
    if (!d->ev) {
        if (errno == ENOSYS) /* not Linux: the client falls back to its I/O thread */
            PyErr_SetString(PyExc_NotImplementedError, "no event-loop driver on this system");
        else
            PyErr_SetFromErrno(errno == ENOMEM ? PyExc_MemoryError : PyExc_OSError);
        goto fail;
    }
    return (PyObject *)d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* submit(endpoint, company_id, future, **options) -> call id. The future gets the result or the error. */
static PyObject *LoopDriver_submit(LoopDriver *d, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    codat_endpoint which;
    const char *company_id;
    if (parse_async_target(args, nargs, "submit(endpoint, company_id, future, **options)", &which, &company_id) < 0)
        return NULL;
    if (d->loop_gone || !d->ev) {
        PyErr_SetString(PyExc_RuntimeError, "this driver's event loop is closed");
        return NULL;
    }
    call_options co;
    memset(&co, 0, sizeof co);
    if (parse_call_kwargs(get_module_state(d->module), args + nargs, kwnames, &co, NULL) < 0) {
        call_options_clear(&co);
        return NULL;
    }
    attach_logging(get_module_state(d->module), &co.opts);
    char err[128] = "";
    PyObject *future = Py_NewRef(args[2]); /* the call's reference, given back in hook_done */
    unsigned long long id = evloop_submit(d->ev, which, company_id, &co.opts, future, err, sizeof err);
    call_options_clear(&co);
    if (id == 0) {
        Py_DECREF(future);
        PyErr_SetString(strcmp(err, "client is closed") == 0 ? PyExc_ValueError : PyExc_RuntimeError,
                        strcmp(err, "client is closed") == 0 ? "Client is closed" : err);
        return NULL;
    }
    PyObject *ret = PyLong_FromUnsignedLongLong(id);
    PyObject *r = after_entry(d);
    Py_XDECREF(r);
    return ret;
}

static PyObject *LoopDriver_cancel(LoopDriver *d, PyObject *arg)
{
    unsigned long long id = PyLong_AsUnsignedLongLong(arg);
    if (id == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    if (d->ev)
        evloop_cancel(d->ev, id);
    return after_entry(d);
}

/* close(): the client was closed: every call in flight ends as one made after close() would (ValueError).
 * On the loop's thread, or on any thread once that loop is closed (then nothing is asked of it). */
static PyObject *LoopDriver_close(LoopDriver *d, PyObject *Py_UNUSED(ignored))
{
    PyObject *closed = PyObject_CallMethod(d->loop, "is_closed", NULL);
    if (!closed)
        return NULL;
    if (PyObject_IsTrue(closed))
        d->loop_gone = 1;
    Py_DECREF(closed);
    if (d->ev)
        evloop_abort_all(d->ev, CODAT_BAD_INPUT, "client is closed");
    Py_RETURN_NONE;
}

static PyObject *LoopDriver_ready(LoopDriver *d, PyObject *Py_UNUSED(ignored))
{
    if (d->ev)
        evloop_on_ready(d->ev);
    return after_entry(d);
}

static PyObject *LoopDriver_get_calls(LoopDriver *d, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(d->ev ? evloop_calls(d->ev) : 0);
}

static int LoopDriver_traverse(LoopDriver *d, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(d));
    Py_VISIT(d->module);
    Py_VISIT(d->loop);
    Py_VISIT(d->add_reader);
    Py_VISIT(d->remove_reader);
    return 0;
}

/* Breaking a cycle with its loop (both unreachable): the loop is never asked anything again. */
static int LoopDriver_clear(LoopDriver *d)
{
    d->loop_gone = 1;
    Py_CLEAR(d->loop);
    Py_CLEAR(d->add_reader);
    Py_CLEAR(d->remove_reader);
    return 0;
}

static void LoopDriver_dealloc(LoopDriver *d)
{
    PyTypeObject *tp = Py_TYPE(d);
    PyObject_GC_UnTrack(d);
    d->loop_gone = 1;
    if (d->ev) {
        codat_evloop *ev = d->ev;
        evloop_free(ev); /* its calls' futures are let go (hook_done), not set */
        d->ev = NULL;
    }
    LoopDriver_clear(d);
    Py_CLEAR(d->module);
    Py_CLEAR(d->str_set_result);
    Py_CLEAR(d->str_set_exception);
    Py_CLEAR(d->interrupt);
    tp->tp_free((PyObject *)d);
    Py_DECREF(tp);
}

static PyMethodDef LoopDriver_methods[] = {
    {"submit", (PyCFunction)(void (*)(void))LoopDriver_submit, METH_FASTCALL | METH_KEYWORDS,
     "submit($self, endpoint, company_id, future, /, **options)\n--\n\nStarts a call; returns its id."},
    {"cancel", (PyCFunction)LoopDriver_cancel, METH_O,
     "cancel($self, call_id, /)\n--\n\nAborts the call if it has not ended."},
    {"close", (PyCFunction)LoopDriver_close, METH_NOARGS,
     "close($self, /)\n--\n\nEnds every call in flight with ValueError (the client was closed)."},
    {"_ready", (PyCFunction)LoopDriver_ready, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef LoopDriver_getset[] = {
    {"calls", (getter)LoopDriver_get_calls, NULL, "calls in flight", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(LoopDriver_doc,
             "_LoopDriver(client, loop)\n--\n\n"
             "The async calls of one client on one asyncio event loop: the loop watches one descriptor of the core's\n"
             "(its sockets and timer in an epoll set), and every call runs on the loop's thread. Private:\n"
             "codat_platform_c.Client makes one per\n"
             "loop it is awaited on.");

static PyType_Slot LoopDriver_slots[] = {
    {Py_tp_new, LoopDriver_new},
    {Py_tp_dealloc, LoopDriver_dealloc},
    {Py_tp_traverse, LoopDriver_traverse},
    {Py_tp_clear, LoopDriver_clear},
    {Py_tp_methods, LoopDriver_methods},
    {Py_tp_getset, LoopDriver_getset},
    {Py_tp_doc, (void *)LoopDriver_doc},
    {0, NULL},
};

static PyType_Spec LoopDriver_spec = {
    .name = "codat_platform_c._core._LoopDriver",
    .basicsize = sizeof(LoopDriver),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = LoopDriver_slots,
};

int loop_driver_setup(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &LoopDriver_spec, NULL);
    if (!type)
        return -1;
    int rc = PyModule_AddType(module, (PyTypeObject *)type);
    Py_DECREF(type);
    return rc;
}
