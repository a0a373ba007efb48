/* module.c: the codat_platform_c._core extension module: multi-phase init (PEP 489) and the per-module
 * state holding the exception types, the Client type and the interned names, so that sub-interpreters
 * and reloads stay apart. It only assembles: each part sets itself up (errors_setup, client_type_setup,
 * loop_driver_setup). */
#include <string.h>
#include "binding.h"
#include <curl/curl.h>

#ifndef CODAT_VERSION
#define CODAT_VERSION "0.0.0"
#endif

static int add_constants(PyObject *module, module_state *st, const char *libcurl_version)
{
    if (PyModule_AddStringConstant(module, "__version__", CODAT_VERSION) < 0 ||
        PyModule_AddStringConstant(module, "USER_AGENT", st->user_agent) < 0 ||
        PyModule_AddStringConstant(module, "LIBCURL_VERSION", libcurl_version) < 0 ||
        PyModule_AddStringConstant(module, "DEFAULT_SERVER_URL", CODAT_DEFAULT_SERVER_URL) < 0 ||
        PyModule_AddIntConstant(module, "DEFAULT_CONCURRENCY", CODAT_DEFAULT_CONCURRENCY) < 0 ||
        PyModule_AddStringConstant(module, "_RETIRED_WARNING", CODAT_RETIRED_WARNING) < 0 ||
        PyModule_AddStringConstant(module, "_RETIRED_DATE", CODAT_RETIRED_DATE) < 0)
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
    const char *libcurl_version = info ? info->version : "?";
    snprintf(st->user_agent, sizeof st->user_agent, "codat-platform-c/%s libcurl/%s python/%d.%d.%d",
             CODAT_VERSION, libcurl_version, PY_MAJOR_VERSION, PY_MINOR_VERSION, PY_MICRO_VERSION);
    if (errors_setup(module, st) < 0 || args_intern_keywords(st) < 0 || convert_intern_keys(st) < 0)
        return -1;
    st->str_logging = PyUnicode_InternFromString("logging");
    st->str_isEnabledFor = PyUnicode_InternFromString("isEnabledFor");
    if (!st->str_logging || !st->str_isEnabledFor)
        return -1;
    if (client_type_setup(module, st) < 0 || loop_driver_setup(module) < 0 ||
        add_constants(module, st, libcurl_version) < 0)
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
    Py_CLEAR(st->str_isEnabledFor);
    for (int k = 0; k < KW_COUNT; k++)
        Py_CLEAR(st->kw[k]);
    for (int k = 0; k < JSON_KEY_COUNT; k++)
        Py_CLEAR(st->json_keys[k]);
    return 0;
}

static void codat_free(void *module)
{
    codat_clear((PyObject *)module);
}

static PyModuleDef_Slot codat_slots[] = {
    {Py_mod_exec, codat_exec},
    {0, NULL},
};

PyModuleDef codat_module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "codat_platform_c._core",
    .m_doc = "C core of codat_platform_c: libcurl + cJSON, with the GIL released during all I/O.",
    .m_size = sizeof(module_state),
    .m_slots = codat_slots,
    .m_traverse = codat_traverse,
    .m_clear = codat_clear,
    .m_free = codat_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&codat_module_def);
}
