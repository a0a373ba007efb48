/* binding.h: what the CPython binding's files share. */
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

typedef struct {
    PyTypeObject *client_type;
    PyObject *CodatError;
    PyObject *ErrorMessage;
    PyObject *SDKError;
    PyObject *TransportError;
    PyObject *Timeout;
    PyObject *logger;        /* logging.getLogger("codat_platform_c"), made once logging is imported */
    PyObject *str_logging;   /* "logging", interned */
    char user_agent[256];
} module_state;

extern PyModuleDef codat_module_def;

static inline module_state *get_module_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* The Client instance (client_type.c makes the type; async_calls.c reads it too). */
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

/* Holds what a call's options point into, so the UTF-8 buffers outlive the call. */
typedef struct {
    codat_call_opts opts;
    codat_retry_cfg retry;
    PyObject *server_url;          /* owned str */
    char **header_lines;           /* PyMem_Malloc'd (made and freed with the GIL held) */
    Py_ssize_t n_headers;
} call_options;

/* client_type.c */
extern PyType_Spec client_type_spec;
module_state *client_state(ClientObject *self);
/* What every fetching method shares: the closed check (ValueError), the endpoint name, the keyword options
 * (extra_names: method-specific ones, returned in extra_values), and the logging hook. */
int check_open(ClientObject *self);
int parse_endpoint(PyObject *obj, codat_endpoint *out);
int parse_call_kwargs(PyObject *const *kwvalues, PyObject *kwnames, call_options *co,
                      PyObject **extra_names, PyObject **extra_values, int n_extra);
void call_options_clear(call_options *co);
void attach_logging(module_state *st, codat_call_opts *opts);

/* async_calls.c */
PyObject *Client_submit_async(ClientObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Client_cancel_async(ClientObject *self, PyObject *arg);
/* Adds the _LoopDriver type (the event-loop driver of async calls) to the module. */
int async_calls_exec(PyObject *module);

/* convert.c */
/* cJSON value -> new Python object (dict, list, str, int, float, bool, None). */
PyObject *json_to_python(const cJSON *item);
/* Raw header block -> dict with lower-case names; repeated names are joined with ", ". */
PyObject *headers_to_dict(const char *raw, size_t len);
/* A finished call -> new reference to its value (dict) or, when *is_error is set, to an exception
 * instance. Returns NULL with an exception set only when the conversion itself failed. */
PyObject *result_to_python(module_state *st, const codat_result *r, int *is_error);
/* Raises the exception for a failed result (or returns the value): the blocking calls' tail. */
PyObject *result_to_return(module_state *st, const codat_result *r);
/* Reads a RetryConfig-like object (or None) into cfg. Returns 0, or -1 with an exception set. */
int retry_from_python(PyObject *obj, codat_retry_cfg *cfg);
/* Checks a company id (str, non-empty, no NUL, bounded) and returns its UTF-8, or NULL with an exception. */
const char *company_id_utf8(PyObject *obj);
/* After a failed PyLong_As... / PyFloat_AsDouble: an OverflowError becomes ValueError("<what> is out of
 * range"), so that every bad value of an option is a ValueError. Returns -1 for convenience. */
int overflow_to_value_error(const char *what);
/* Rejects CR, LF and NUL in a header value. Returns 0, or -1 with ValueError set (naming `what`). */
int check_header_value(const char *value, Py_ssize_t len, const char *what);

#endif
