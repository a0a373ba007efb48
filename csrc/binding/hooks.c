/* hooks.c: what the core calls back while a call runs with the GIL released: the Ctrl-C check, a batch's
 * progress, and the bridge from the core's log lines to the "codat_platform_c" logger. Every Python
 * re-entry from a core thread is here (and in async_calls.c's completion). */
#include "binding.h"

/* ---- waiting with the GIL released ---- */

/* The core calls this about every 50 ms. Signal handlers only run on the main thread and only with the
 * GIL, so take it back briefly (as sock_call_ex and _sqlite's progress handler do) and let
 * PyErr_CheckSignals run them; a KeyboardInterrupt then stays pending and the call unwinds. */
int check_interrupt(void *p)
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

int report_progress(void *p, size_t done, size_t total)
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

/* logging.getLogger("codat_platform_c"), made once. A library's logger gets a NullHandler, so that an
 * application that configured no logging does not get logging's last-resort handler printing our
 * warnings on stderr. Leaves st->logger NULL (and no exception) when that fails. */
static void make_logger(module_state *st, PyObject *logging)
{
    st->logger = PyObject_CallMethod(logging, "getLogger", "s", "codat_platform_c");
    PyObject *null_handler = st->logger ? PyObject_CallMethod(logging, "NullHandler", NULL) : NULL;
    PyObject *r = null_handler ? PyObject_CallMethod(st->logger, "addHandler", "O", null_handler) : NULL;
    Py_XDECREF(null_handler);
    if (!r)
        Py_CLEAR(st->logger);
    Py_XDECREF(r);
    PyErr_Clear();
}

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
    if (!st->logger)
        make_logger(st, logging);
    Py_DECREF(logging);
    if (!st->logger)
        return 0;
    /* INFO (retries) is the highest level the core logs, DEBUG the lowest: failures that are raised to the
     * caller are DEBUG lines, never warnings. Levels nest, so INFO off means nothing is wanted. */
    static const int order[] = {CODAT_LOG_INFO, CODAT_LOG_DEBUG};
    int lowest = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        PyObject *level = PyLong_FromLong(order[i]); /* a small int: CPython's cached object */
        PyObject *r = level ? PyObject_CallMethodOneArg(st->logger, st->str_isEnabledFor, level) : NULL;
        Py_XDECREF(level);
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
    /* At interpreter exit PyGILState_Ensure may hang or end this thread: a log line is not worth it. */
    if (Py_IsFinalizing())
        return;
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
