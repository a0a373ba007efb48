/* convert.c: values between Python and C, with the GIL held: a parsed JSON body and a raw header block to
 * Python (only ever after a transfer has finished), a RetryConfig to the core's retry policy. */
#include <string.h>
#include <limits.h>
#include <math.h>
#include "binding.h"

static const char *const json_key_names[JSON_KEY_COUNT] = {
    [JSON_KEY_ACCESS_TOKEN] = "accessToken", [JSON_KEY_EXPIRES_IN] = "expiresIn",
    [JSON_KEY_TOKEN_TYPE] = "tokenType",
};

int convert_intern_keys(module_state *st)
{
    for (int k = 0; k < JSON_KEY_COUNT; k++)
        if (!(st->json_keys[k] = PyUnicode_InternFromString(json_key_names[k])))
            return -1;
    return 0;
}

/* dict[key] = value. The keys of a token answer are the module's interned strs: PyDict_SetItemString
 * would decode and intern each of them again on every call. Other keys are made (and interned) as that
 * does, so that an answer's dict looks the same whichever way its keys came. */
static int set_json_item(module_state *st, PyObject *dict, const char *key, PyObject *value)
{
    for (int k = 0; k < JSON_KEY_COUNT; k++)
        if (strcmp(key, json_key_names[k]) == 0)
            return PyDict_SetItem(dict, st->json_keys[k], value);
    return PyDict_SetItemString(dict, key, value);
}

PyObject *json_to_python(module_state *st, const cJSON *item)
{
    if (cJSON_IsObject(item)) {
        PyObject *dict = PyDict_New();
        if (!dict)
            return NULL;
        for (const cJSON *child = item->child; child; child = child->next) {
            PyObject *value = json_to_python(st, child);
            if (!value) {
                Py_DECREF(dict);
                return NULL;
            }
            /* Duplicate keys: the last one wins, as in Python's json module. */
            int rc = set_json_item(st, dict, child->string ? child->string : "", value);
            Py_DECREF(value);
            if (rc < 0) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        return dict;
    }
    if (cJSON_IsArray(item)) {
        PyObject *list = PyList_New(0);
        if (!list)
            return NULL;
        for (const cJSON *child = item->child; child; child = child->next) {
            PyObject *value = json_to_python(st, child);
            if (!value || PyList_Append(list, value) < 0) {
                Py_XDECREF(value);
                Py_DECREF(list);
                return NULL;
            }
            Py_DECREF(value);
        }
        return list;
    }
    if (cJSON_IsString(item))
        return PyUnicode_DecodeUTF8(item->valuestring, (Py_ssize_t)strlen(item->valuestring), "replace");
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        /* Integers stay int (expiresIn, statusCode); cJSON keeps them as doubles. */
        if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0)
            return PyLong_FromLongLong((long long)d);
        return PyFloat_FromDouble(d);
    }
    if (cJSON_IsBool(item))
        return PyBool_FromLong(cJSON_IsTrue(item));
    Py_RETURN_NONE;
}

/* Adds one "Name: value" line (name lower-cased) to dict. A repeated name collects its values in a list,
 * joined once at the end by join_repeated: joining as they come would copy the growing string for each of
 * up to ~40,000 repeats (libcurl's 300 KB of headers), seconds of CPU with the GIL held. */
static int add_header_line(PyObject *dict, const char *p, const char *colon, const char *line_end)
{
    const char *v = colon + 1;
    const char *ve = line_end;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    PyObject *name = PyUnicode_DecodeLatin1(p, colon - p, NULL);
    PyObject *lower = name ? PyObject_CallMethod(name, "lower", NULL) : NULL;
    PyObject *value = PyUnicode_DecodeLatin1(v, ve - v, NULL);
    Py_XDECREF(name);
    int rc = -1;
    if (lower && value) {
        PyObject *prev = PyDict_GetItemWithError(dict, lower);
        if (prev && PyList_CheckExact(prev)) {
            rc = PyList_Append(prev, value);
        } else if (prev) {
            PyObject *values = PyList_New(2);
            if (values) {
                PyList_SET_ITEM(values, 0, Py_NewRef(prev));
                PyList_SET_ITEM(values, 1, Py_NewRef(value));
            }
            rc = values ? PyDict_SetItem(dict, lower, values) : -1;
            Py_XDECREF(values);
        } else {
            rc = PyErr_Occurred() ? -1 : PyDict_SetItem(dict, lower, value);
        }
    }
    Py_XDECREF(lower);
    Py_XDECREF(value);
    return rc;
}

/* Every value that add_header_line collected in a list becomes one str joined with ", ". */
static int join_repeated(PyObject *dict)
{
    PyObject *separator = PyUnicode_FromString(", ");
    if (!separator)
        return -1;
    Py_ssize_t pos = 0;
    PyObject *name, *values;
    int rc = 0;
    while (rc == 0 && PyDict_Next(dict, &pos, &name, &values)) {
        if (!PyList_CheckExact(values))
            continue;
        PyObject *joined = PyUnicode_Join(separator, values);
        /* replacing the value of a key already there: allowed while iterating */
        rc = joined ? PyDict_SetItem(dict, name, joined) : -1;
        Py_XDECREF(joined);
    }
    Py_DECREF(separator);
    return rc;
}

PyObject *headers_to_dict(const char *raw, size_t len)
{
    PyObject *dict = PyDict_New();
    if (!dict || !raw)
        return dict;
    const char *p = raw, *end = raw + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && colon > p && memcmp(p, "HTTP/", 5) != 0 && add_header_line(dict, p, colon, line_end) < 0) {
            Py_DECREF(dict);
            return NULL;
        }
        p = line_end + 1;
    }
    if (join_repeated(dict) < 0)
        Py_CLEAR(dict);
    return dict;
}

/* ---- Python -> C: a RetryConfig ---- */

/* RetryConfig.__init__ checked every field when it was made; a field assigned since is checked again here,
 * with the same messages, so that a call never hands the core a broken policy. */

static int get_long_attr(PyObject *obj, const char *name, long min, long *out)
{
    PyObject *v = PyObject_GetAttrString(obj, name);
    if (!v)
        return -1;
    char what[64];
    snprintf(what, sizeof what, "RetryConfig.%s", name);
    int rc = parse_bounded_int(v, what, min, LONG_MAX, out);
    Py_DECREF(v);
    return rc;
}

int retry_from_python(PyObject *obj, codat_retry_cfg *cfg)
{
    if (obj == Py_None) {
        memset(cfg, 0, sizeof *cfg);
        cfg->enabled = 0;
        return 0;
    }
    if (!PyObject_HasAttrString(obj, "status_codes") || !PyObject_HasAttrString(obj, "initial_interval_ms")) {
        PyErr_Format(PyExc_TypeError, "retries must be a RetryConfig or None, not %.100s", Py_TYPE(obj)->tp_name);
        return -1;
    }
    codat_retry_defaults(cfg);
    memset(cfg->retry_status, 0, sizeof cfg->retry_status);
    if (get_long_attr(obj, "initial_interval_ms", 0, &cfg->initial_interval_ms) < 0 ||
        get_long_attr(obj, "max_interval_ms", 0, &cfg->max_interval_ms) < 0 ||
        get_long_attr(obj, "max_elapsed_ms", 0, &cfg->max_elapsed_ms) < 0)
        return -1;
    PyObject *exp = PyObject_GetAttrString(obj, "exponent");
    if (!exp)
        return -1;
    cfg->exponent = PyFloat_AsDouble(exp);
    Py_DECREF(exp);
    if (cfg->exponent == -1 && PyErr_Occurred())
        return overflow_to_value_error("RetryConfig.exponent");
    if (!(cfg->exponent >= 1.0) || !isfinite(cfg->exponent)) {
        PyErr_SetString(PyExc_ValueError, "RetryConfig.exponent must be a finite number >= 1");
        return -1;
    }
    PyObject *rce = PyObject_GetAttrString(obj, "retry_connection_errors");
    if (!rce)
        return -1;
    int truth = PyObject_IsTrue(rce);
    Py_DECREF(rce);
    if (truth < 0)
        return -1;
    cfg->retry_connection_errors = truth;
    PyObject *codes = PyObject_GetAttrString(obj, "status_codes");
    if (!codes)
        return -1;
    PyObject *seq = PySequence_Fast(codes, "RetryConfig.status_codes must be a sequence of str such as \"429\" or \"5XX\"");
    Py_DECREF(codes);
    if (!seq)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *text = PyLong_Check(item) ? PyObject_Str(item) : Py_NewRef(item);
        const char *s = text && PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
        if (!s || codat_retry_add_status(cfg, s) != 0) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_ValueError,
                             "RetryConfig.status_codes: %R is not a status code or pattern like \"5XX\"", item);
            Py_XDECREF(text);
            Py_DECREF(seq);
            return -1;
        }
        Py_DECREF(text);
    }
    Py_DECREF(seq);
    return 0;
}
