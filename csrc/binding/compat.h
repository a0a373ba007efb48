/* compat.h: what the binding uses from CPython newer than 3.10 (the oldest Python supported), given to 3.10
 * from the C API it has. Included by binding.h right after Python.h; call sites use the modern names. */
#ifndef CODAT_COMPAT_H
#define CODAT_COMPAT_H

#include <Python.h>

#if PY_VERSION_HEX < 0x030B0000
/* 3.11's PyType_GetModuleByDef, as 3.11 implements it: the first heap type in the MRO whose module was made
 * from def. Borrowed reference; NULL with TypeError when there is none. */
static inline PyObject *codat_compat_type_module_by_def(PyTypeObject *type, PyModuleDef *def)
{
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE))
            continue;
        PyObject *module = ((PyHeapTypeObject *)base)->ht_module;
        if (module && PyModule_GetDef(module) == def)
            return module;
    }
    PyErr_Format(PyExc_TypeError, "PyType_GetModuleByDef: No superclass of '%s' has the given module",
                 type->tp_name);
    return NULL;
}
#define PyType_GetModuleByDef codat_compat_type_module_by_def
#endif

#if PY_VERSION_HEX < 0x030D0000
/* public from 3.13; the same function under its older name before */
#define Py_IsFinalizing _Py_IsFinalizing
#endif

#endif
