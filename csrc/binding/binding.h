/* binding.h: what the CPython binding's files share. Each file owns one concern:
 *   module.c       the module: multi-phase init, its state, the constants it exports
 *   client_type.c  the Client type and its life cycle (init, close, dealloc, pickling, properties)
 *   calls.c        the blocking calls: one token, a batch
 *   async_calls.c  the asynchronous calls (submit, cancel, completion)
 *   args.c         every argument check, for the constructor and the calls (also exposed to Python)
 *   errors.c       the exception types and the mapping of a finished call to a value or an exception
 *   hooks.c        what the core calls back: Ctrl-C checks, batch progress, the logging bridge
 *   convert.c      value conversions: JSON and the header block to Python, a RetryConfig to C */
#ifndef CODAT_BINDING_H
#define CODAT_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "compat.h"
#include "../core/codat.h"

/* Codat retired GET /companies/{companyId}/connectionManagement/accessToken on 2026-10-12; since then it
 * answers 404. get_access_token keeps calling it (its token is scoped to connection management: moving a
 * caller to the broader company token is the caller's decision), but says so: a DeprecationWarning on every
 * call, and this note on the message of a 404 from it. */
#define CODAT_RETIRED_DATE "2026-10-12"
#define CODAT_RETIRED_WARNING                                                                              \
    "get_access_token() calls GET /companies/{companyId}/connectionManagement/accessToken, which Codat "    \
    "retired on " CODAT_RETIRED_DATE " (it answers 404 since): use get_company_access_token() "            \
    "(GET /companies/{companyId}/accessToken) instead, or get_access_tokens(..., endpoint='company')"
#define CODAT_RETIRED_404_NOTE                                                                             \
    "Codat retired GET /companies/{companyId}/connectionManagement/accessToken on " CODAT_RETIRED_DATE     \
    " and answers 404 there since; call get_company_access_token() (GET /companies/{companyId}/accessToken)" \
    " instead, or get_access_tokens(..., endpoint='company')"

/* The keyword-only names the calls accept, interned once in the module state (args.c matches a call's
 * keywords against them by identity first). The first KW_N_CALL are every fetching call's options; the
 * rest are get_access_tokens' own. */
enum {
    KW_TIMEOUT_MS, KW_RETRIES, KW_SERVER_URL, KW_HTTP_HEADERS, KW_N_CALL,
    KW_CONCURRENCY = KW_N_CALL, KW_ENDPOINT, KW_PROGRESS, KW_THREADS, KW_COUNT
};
#define KW_N_BATCH (KW_COUNT - KW_N_CALL)

/* The keys of a token answer, interned once (convert.c): made on every successful call otherwise. */
enum { JSON_KEY_ACCESS_TOKEN, JSON_KEY_EXPIRES_IN, JSON_KEY_TOKEN_TYPE, JSON_KEY_COUNT };

typedef struct {
    PyTypeObject *client_type;
    PyObject *CodatError;
    PyObject *ErrorMessage;
    PyObject *SDKError;
    PyObject *TransportError;
    PyObject *Timeout;
    PyObject *logger;        /* logging.getLogger("codat_platform_c"), made once logging is imported */
    PyObject *str_logging;   /* "logging", interned */
    PyObject *str_isEnabledFor; /* interned: asked on every call while logging is imported */
    PyObject *kw[KW_COUNT];  /* interned keyword names */
    PyObject *json_keys[JSON_KEY_COUNT]; /* interned keys of a token answer */
    char user_agent[256];
} module_state;

extern PyModuleDef codat_module_def;

static inline module_state *get_module_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* ---- client_type.c ---- */

typedef struct {
    PyObject_HEAD
    codat_client *core;
    PyObject *module;        /* keeps the module state (exception types) alive */
    PyObject *server_url;    /* str, for repr and the property */
    PyObject *timeout_ms;    /* int or None */
    int has_auth;
    PyObject *weakreflist;
    /* For pickling and copying only (the private _reduce_config method): the auth argument exactly as
     * given (str, or NULL for none), and whether it was api_key rather than auth_header. Never in a repr
     * and not visited by tp_traverse, so gc.get_referents does not hand it out either: a str cannot take
     * part in a reference cycle. */
    PyObject *reduce_auth;
    int reduce_auth_is_api_key;
    PyObject *reduce_config;  /* dict of the other constructor arguments (no secret) */
    long batch_concurrency;   /* get_access_tokens' concurrency when the call gives none; 0: the default */
} ClientObject;

static inline module_state *client_state(ClientObject *self)
{
    return get_module_state(self->module);
}

/* Makes the Client type and adds it to the module. Returns 0, or -1 with an exception set. */
int client_type_setup(PyObject *module, module_state *st);

/* ---- calls.c (methods of Client) ---- */
PyObject *Client_get_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Client_connection_management_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                             PyObject *kwnames);
PyObject *Client_get_company_access_token(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames);
PyObject *Client_get_access_tokens(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Client_check_batch_args(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

/* ---- async_calls.c (methods of Client) ---- */
PyObject *Client_submit_async(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Client_cancel_async(ClientObject *self, PyObject *arg);

/* ---- loop_driver.c ---- */
/* Adds the _LoopDriver type (the awaits' event-loop driver) to the module. Returns 0, or -1 with an
 * exception set. */
int loop_driver_setup(PyObject *module);

/* ---- args.c ---- */

/* Interns the keyword names into st->kw. Returns 0, or -1 with an exception set. */
int args_intern_keywords(module_state *st);
/* Checks a company id (str, non-empty, no NUL, bounded) and returns its UTF-8, or NULL with an exception. */
const char *company_id_utf8(PyObject *obj);
/* After a failed PyLong_As... / PyFloat_AsDouble: an OverflowError becomes ValueError("<what> is out of
 * range"), so that every bad value of an option is a ValueError. Returns -1 for convenience. */
int overflow_to_value_error(const char *what);
/* Rejects CR, LF and NUL in a header value. Returns 0, or -1 with ValueError set (naming `what`). */
int check_header_value(const char *value, Py_ssize_t len, const char *what);
/* "connection_management" or "company" (NULL: leaves *out alone). Returns 0, or -1 with ValueError. */
int parse_endpoint(PyObject *obj, codat_endpoint *out);
/* The positional arguments an async call starts with, (endpoint, company_id, <its own third>): exactly
 * three (else TypeError(usage)), a known endpoint and a valid company id (its UTF-8, cached by the str).
 * One check for Client._submit_async and _LoopDriver.submit. Returns 0, or -1 with an exception set. */
int parse_async_target(PyObject *const *args, Py_ssize_t nargs, const char *usage, codat_endpoint *which,
                       const char **company_id);
/* An int option in [lo, hi]: TypeError for anything but an int (bool included), ValueError outside. */
int parse_bounded_int(PyObject *v, const char *name, long lo, long hi, long *out);

/* Holds what a call's options point into, so the UTF-8 buffers outlive the call. */
typedef struct {
    codat_call_opts opts;
    codat_retry_cfg retry;
    PyObject *server_url;          /* owned str */
    char **header_lines;           /* PyMem_Malloc'd (made and freed with the GIL held) */
    Py_ssize_t n_headers;
} call_options;
void call_options_clear(call_options *co);
/* The keyword-only options of every fetching call into co (zeroed by the caller). batch_values: NULL to
 * refuse get_access_tokens' own names, else KW_N_BATCH slots that receive them (borrowed). Unknown names
 * raise TypeError. Returns 0, or -1 with an exception set (co still needs call_options_clear). */
int parse_call_kwargs(module_state *st, PyObject *const *kwvalues, PyObject *kwnames, call_options *co,
                      PyObject **batch_values);

/* get_access_tokens' arguments, checked. */
typedef struct {
    call_options co;
    long concurrency;
    long threads;                  /* 0: the core picks */
    codat_endpoint which;
    PyObject *progress;            /* borrowed callable, or NULL */
    PyObject *unique;              /* owned dict: company id -> None, first-seen order, duplicates once */
} batch_args;
/* Checks get_access_tokens(company_ids, /, **kwargs) without sending anything; `concurrency` defaults to
 * default_concurrency. Returns 0, or -1 with an exception set; either way batch_args_clear follows. */
int parse_batch_args(module_state *st, long default_concurrency, PyObject *company_ids, PyObject *const *kwvalues,
                     PyObject *kwnames, batch_args *out);
void batch_args_clear(batch_args *b);

/* The constructor's arguments as PyArg_ParseTupleAndKeywords leaves them. */
typedef struct {
    PyObject *auth, *api_key, *server_url, *timeout, *retries, *verify, *max_body, *batch_concurrency;
} client_kwargs;
/* What the constructor's arguments became: cfg points into the buffers held here. */
typedef struct {
    codat_config cfg;
    PyObject *server_url;          /* owned str: the one given, or the default */
    PyObject *verify_bytes;        /* owned bytes the CA path points into, or NULL */
    char *auth_owned;              /* PyMem "Basic ..." built from api_key (wiped when cleared), or NULL */
    long batch_concurrency;        /* 0: none given */
} client_config;
/* Checks every constructor argument into out (zeroed by the caller). Returns 0, or -1 with an exception
 * set; either way client_config_clear follows. */
int parse_client_config(module_state *st, const client_kwargs *in, client_config *out);
void client_config_clear(client_config *c);

/* ---- hooks.c ---- */

/* What the core's callbacks need while the GIL is released. */
typedef struct {
    PyThreadState *tstate;   /* our thread state while the GIL is released */
    PyObject *progress;      /* batch only: callable(done, total) or NULL */
    int python_error;        /* a hook raised: the exception is pending in tstate */
} wait_ctx;
/* codat_cancel_fn: runs signal handlers (with the GIL briefly back); nonzero once one raised. */
int check_interrupt(void *wait);
/* codat_progress_fn: calls wait->progress(done, total) with the GIL briefly back. */
int report_progress(void *wait, size_t done, size_t total);
/* Points opts at the logging bridge when the "codat_platform_c" logger wants anything. */
void attach_logging(module_state *st, codat_call_opts *opts);

/* ---- errors.c ---- */

/* Makes the exception types, adds them to the module and keeps them in st. Returns 0, or -1. */
int errors_setup(PyObject *module, module_state *st);
/* ValueError("Client is closed") unless the client is open. Returns 0, or -1 with the exception set. */
int check_open(ClientObject *self);
/* A finished call -> new reference to its value (dict) or, when *is_error is set, to an exception
 * instance. Returns NULL with an exception set only when the conversion itself failed. */
PyObject *result_to_python(module_state *st, const codat_result *r, int *is_error);
/* Raises the exception for a failed result (or returns the value): the blocking calls' tail. */
PyObject *result_to_return(module_state *st, const codat_result *r);

/* ---- convert.c ---- */

/* Interns the keys of a token answer into st->json_keys. Returns 0, or -1 with an exception set. */
int convert_intern_keys(module_state *st);
/* Reads a RetryConfig-like object (or None) into cfg. Returns 0, or -1 with an exception set. */
int retry_from_python(PyObject *obj, codat_retry_cfg *cfg);
/* cJSON value -> new Python object (dict, list, str, int, float, bool, None). */
PyObject *json_to_python(module_state *st, const cJSON *item);
/* Raw header block -> dict with lower-case names; repeated names are joined with ", ". */
PyObject *headers_to_dict(const char *raw, size_t len);

#endif
