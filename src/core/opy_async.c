/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_async.c - "async def" callbacks (see the header). The loop and the
 * wrappers are a few lines of Python, compiled once per interpreter.
 */
#include "opy_async.h"
#include "opy_error.h"
#include "opy_log.h"

static const char async_source[] =
    "import functools, threading\n"
    "_loop = None\n"
    "_thread = None\n"
    "_lock = threading.Lock()\n"
    "\n"
    "def _is_async(f):\n"
    "    import inspect\n"
    "    if inspect.iscoroutinefunction(f):\n"
    "        return True\n"
    "    call = getattr(type(f), '__call__', None)\n"
    "    return not inspect.isroutine(f) and call is not None and inspect.iscoroutinefunction(call)\n"
    "\n"
    "def _main(loop, ready):\n"
    "    import asyncio\n"
    "    ready.set()\n"
    "    try:\n"
    "        loop.run_forever()\n"
    "        tasks = asyncio.all_tasks(loop)\n"
    "        for t in tasks:\n"
    "            t.cancel()\n"
    "        if tasks:\n"
    "            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))\n"
    "        loop.run_until_complete(loop.shutdown_asyncgens())\n"
    "    finally:\n"
    "        loop.close()\n"
    "\n"
    "def _get_loop():\n"
    "    global _loop, _thread\n"
    "    with _lock:\n"
    "        if _loop is None:\n"
    "            import asyncio\n"
    "            loop = asyncio.new_event_loop()\n"
    "            ready = threading.Event()\n"
    "            t = threading.Thread(target=_main, args=(loop, ready), name='orthanc-asyncio',\n"
    "                                 daemon=True)\n"
    "            t.start()\n"
    "            ready.wait()\n"
    "            _loop, _thread = loop, t\n"
    "        return _loop, _thread\n"
    "\n"
    "async def _tracked(coro):\n"
    "    _depth(1)\n"
    "    try:\n"
    "        return await coro\n"
    "    finally:\n"
    "        _depth(-1)\n"
    "\n"
    "def run(coro):\n"
    "    import asyncio\n"
    "    loop, thread = _get_loop()\n"
    "    if threading.current_thread() is thread:\n"
    "        coro.close()\n"
    "        raise RuntimeError('an async callback was called from the event loop of the async callbacks '\n"
    "                           '(e.g. an async route calling an async route through '\n"
    "                           'RestApiGetAfterPlugins): it would wait for itself')\n"
    "    return asyncio.run_coroutine_threadsafe(_tracked(coro), loop).result()\n"
    "\n"
    "def adapt(f):\n"
    "    if not _is_async(f):\n"
    "        return f\n"
    "    @functools.wraps(f)\n"
    "    def sync_callback(*args, **kwargs):\n"
    "        return run(f(*args, **kwargs))\n"
    "    return sync_callback\n"
    "\n"
    "def stop(timeout):\n"
    "    global _loop, _thread\n"
    "    with _lock:\n"
    "        loop, thread = _loop, _thread\n"
    "        _loop = _thread = None\n"
    "    if loop is None:\n"
    "        return True\n"
    "    loop.call_soon_threadsafe(loop.stop)\n"
    "    thread.join(timeout)\n"
    "    return not thread.is_alive()\n";

static PyObject *helpers;           /* dict of the compiled source */

/* _depth(delta): while a callback's coroutine is pending, the loop's
 * thread counts as inside a callback of Orthanc (opy_gil.h), so that its
 * SDK calls keep working between ORTHANC_STOPPED and the plugin's stop, as
 * those of a plain callback do. */
static PyObject *
depth(PyObject *self, PyObject *arg)
{
    long delta = PyLong_AsLong(arg);

    (void) self;
    if (delta == -1 && PyErr_Occurred())
        return NULL;
    opy_gil_callback_depth += (int) delta;
    Py_RETURN_NONE;
}

static PyMethodDef depth_def = {"_depth", depth, METH_O, NULL};
static PyObject *wrappers;          /* list keeping the wrappers alive */

/* The helper `name` (borrowed), compiling the source first; NULL with an
 * exception set. */
static PyObject *
helper(const char *name)
{
    PyObject *code = NULL, *r = NULL, *f;

    if (helpers == NULL) {
        PyObject *d = PyDict_New();

        PyObject *fn = PyCFunction_New(&depth_def, NULL);

        if (d == NULL || fn == NULL || PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0 ||
            PyDict_SetItemString(d, "_depth", fn) < 0 ||
            (code = Py_CompileString(async_source, "<orthanc-async>", Py_file_input)) == NULL ||
            (r = PyEval_EvalCode(code, d, d)) == NULL) {
            Py_XDECREF(code);
            Py_XDECREF(fn);
            Py_XDECREF(d);
            return NULL;
        }
        Py_DECREF(fn);
        Py_DECREF(r);
        Py_DECREF(code);
        helpers = d;
    }
    f = PyDict_GetItemString(helpers, name);       /* borrowed */
    if (f == NULL)
        PyErr_Format(PyExc_RuntimeError, "orthanc: async helper %s missing", name);
    return f;
}

/* Whether `f` is a coroutine function, told from its code's flags for
 * plain functions and methods (no import: asyncio and inspect cost tens of
 * milliseconds at start-up): 1 or 0; -1 when only inspect can tell (callable
 * objects, functools.partial, functions marked by
 * inspect.markcoroutinefunction). */
static int
quick_is_async(PyObject *f)
{
    PyObject *dict;

    if (PyCFunction_Check(f))
        return 0;
    if (PyMethod_Check(f))
        f = PyMethod_GET_FUNCTION(f);
    if (!PyFunction_Check(f))
        return -1;
    dict = ((PyFunctionObject *) f)->func_dict;
    if (dict != NULL && PyDict_GetItemString(dict, "_is_coroutine_marker") != NULL)
        return -1;
    return (((PyCodeObject *) PyFunction_GET_CODE(f))->co_flags & CO_COROUTINE) != 0 ? 1 : 0;
}

PyObject *
opy_async_adapt(PyObject *callable)
{
    PyObject *adapt, *r;

    if (callable == NULL || callable == Py_None || quick_is_async(callable) == 0)
        return callable;
    adapt = helper("adapt");
    if (adapt == NULL)
        return NULL;
    r = PyObject_CallFunctionObjArgs(adapt, callable, NULL);
    if (r == NULL)
        return NULL;
    if (r == callable) {
        Py_DECREF(r);
        return callable;
    }
    if ((wrappers == NULL && (wrappers = PyList_New(0)) == NULL) || PyList_Append(wrappers, r) < 0) {
        Py_DECREF(r);
        return NULL;
    }
    Py_DECREF(r);                   /* the list holds it */
    return r;
}

PyObject *
opy_async_result(PyObject *r)
{
    PyObject *run, *value;

    if (r == NULL || !PyCoro_CheckExact(r))
        return r;
    run = helper("run");
    value = run != NULL ? PyObject_CallOneArg(run, r) : NULL;
    if (run == NULL)
        PyObject_CallMethod(r, "close", NULL);      /* never awaited: no warning */
    Py_DECREF(r);
    return value;
}

void
opy_async_stop(int timeout_ms)
{
    PyObject *stop, *r;

    if (helpers == NULL)
        return;                     /* never used */
    stop = helper("stop");
    r = stop != NULL ? PyObject_CallFunction(stop, "d", timeout_ms / 1000.0) : NULL;
    if (r == NULL)
        opy_error_log("OPY0049", "stopping the event loop of the async callbacks");
    else if (r == Py_False)
        opy_log(OPY_LOG_WARNING, "OPY0049 the event loop of the async callbacks (script %s) did not "
                "stop within %d ms", opy_script_name, timeout_ms);
    Py_XDECREF(r);
}

void
opy_async_finalize(void)
{
    Py_CLEAR(wrappers);
    Py_CLEAR(helpers);
}
