/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * python_owner.c - a test-only Orthanc plugin that starts the Python
 * interpreter, as another Python-embedding plugin would. Loaded before the
 * Python plugin, it makes the latter refuse to start (OPY0006). Its name
 * differs from "python", which Orthanc would refuse on its own.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <orthanc/OrthancCPlugin.h>

ORTHANC_PLUGINS_API int32_t
OrthancPluginInitialize(OrthancPluginContext *context)
{
    Py_InitializeEx(0);
    OrthancPluginLogWarning(context, "python-owner test plugin: Python initialised");
    return 0;
}

ORTHANC_PLUGINS_API void
OrthancPluginFinalize(void)
{
    if (Py_IsInitialized())
        Py_FinalizeEx();
}

ORTHANC_PLUGINS_API const char *
OrthancPluginGetName(void)
{
    return "python-owner-test";
}

ORTHANC_PLUGINS_API const char *
OrthancPluginGetVersion(void)
{
    return "1.0";
}
