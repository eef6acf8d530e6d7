/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_custom_toolbox.c - LookupDictionary (fills a struct: returned as a
 * dict, as on the documentation page) and FindQuery.GetFindQueryTagGroup /
 * GetFindQueryTagElement (two out-parameters of GetFindQueryTag).
 */
#include "opy_custom.h"

const char opy_custom_LookupDictionary_doc[] =
    "LookupDictionary($module, /, name)\n--\n\n"
    "Get information about a DICOM tag of the dictionary of Orthanc.\n\n"
    "Parameters:\n  name (str): the name of the tag (e.g. 'PatientID') or its 'gggg,eeee' form\n\n"
    "Returns:\n  dict: Group, Element, ValueRepresentation, MinMultiplicity, MaxMultiplicity\n\n"
    "Raises orthanc.OrthancException for an unknown tag.";

PyObject *
opy_custom_LookupDictionary(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"name"};
    PyObject *a[1];
    const char *name;
    OrthancPluginDictionaryEntry entry;
    OrthancPluginErrorCode code;

    (void) self;
    if (opy_args_parse("LookupDictionary", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        (name = opy_str_get(a[0], "name")) == NULL)
        return NULL;
    OPY_CHECK_SDK();
    OPY_BEGIN_ALLOW_THREADS
    code = OrthancPluginLookupDictionary(opy_context, &entry, name);
    OPY_END_ALLOW_THREADS
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return Py_BuildValue("{s:i,s:i,s:i,s:I,s:I}", "Group", (int) entry.group, "Element",
                         (int) entry.element, "ValueRepresentation", (int) entry.vr,
                         "MinMultiplicity", (unsigned int) entry.minMultiplicity,
                         "MaxMultiplicity", (unsigned int) entry.maxMultiplicity);
}

static PyObject *
query_tag(const char *fname, int want_group, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    static const char *const names[] = {"index"};
    OpyHandleObject *h = (OpyHandleObject *) self;
    PyObject *a[1];
    long long index;
    uint16_t group = 0, element = 0;
    OrthancPluginErrorCode code;

    if (opy_args_parse(fname, args, nargs, kwnames, names, 1, 1, a) < 0 ||
        opy_handle_get(self) == NULL || opy_long_get(a[0], "index", 0, UINT32_MAX, &index) < 0)
        return NULL;
    OPY_CHECK_SDK();
    code = OrthancPluginGetFindQueryTag(opy_context, &group, &element, h->ptr, (uint32_t) index);
    if (code != OrthancPluginErrorCode_Success)
        return opy_error_raise(code);
    return PyLong_FromLong(want_group ? group : element);
}

const char opy_custom_FindQuery_GetFindQueryTagGroup_doc[] =
    "GetFindQueryTagGroup($self, /, index)\n--\n\n"
    "Get the group of one tag of the C-FIND query.\n\n"
    "Parameters:\n  index (int): the index of the tag\n\nReturns:\n  int: the group";

PyObject *
opy_custom_FindQuery_GetFindQueryTagGroup(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames)
{
    return query_tag("GetFindQueryTagGroup", 1, self, args, nargs, kwnames);
}

const char opy_custom_FindQuery_GetFindQueryTagElement_doc[] =
    "GetFindQueryTagElement($self, /, index)\n--\n\n"
    "Get the element of one tag of the C-FIND query.\n\n"
    "Parameters:\n  index (int): the index of the tag\n\nReturns:\n  int: the element";

PyObject *
opy_custom_FindQuery_GetFindQueryTagElement(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                                            PyObject *kwnames)
{
    return query_tag("GetFindQueryTagElement", 0, self, args, nargs, kwnames);
}

const char opy_custom_CreateMemoryBuffer_doc[] =
    "CreateMemoryBuffer($module, /, size)\n--\n\n"
    "Return size zero bytes (kept for compatibility with the official plugin, whose\n"
    "version returned uninitialised memory).\n\n"
    "Parameters:\n  size (int): the number of bytes\n\nReturns:\n  bytes: size zero bytes";

PyObject *
opy_custom_CreateMemoryBuffer(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"size"};
    PyObject *a[1];
    long long size;

    (void) self;
    if (opy_args_parse("CreateMemoryBuffer", args, nargs, kwnames, names, 1, 1, a) < 0 ||
        opy_long_get(a[0], "size", 0, UINT32_MAX, &size) < 0)
        return NULL;
    return PyObject_CallFunction((PyObject *) &PyBytes_Type, "L", size);
}
