/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_async.h - "async def" callbacks.
 *
 * A coroutine function registered as a callback is wrapped in a plain
 * function that runs the coroutine on the plugin's one event loop (a
 * Python thread "orthanc-asyncio", started on first use) and waits for its
 * result; the waiting Orthanc thread holds no GIL meanwhile, so other
 * callbacks, and other coroutines, go on. The loop is stopped when Orthanc
 * stops, before the script's threads are waited for.
 */
#ifndef OPY_ASYNC_H
#define OPY_ASYNC_H

#include "opy_python.h"

/* `callable` itself, or its synchronous wrapper when it is a coroutine
 * function (or an object whose __call__ is one). Borrowed reference (the
 * wrapper is kept alive until opy_async_finalize), NULL with an exception
 * set. With the GIL held. */
PyObject *opy_async_adapt(PyObject *callable);

/* For the methods of handler objects (Python jobs, WebDAV collections,
 * chunked readers), which are called where they are found rather than
 * registered: `r` itself (steals it), or, when it is a coroutine (an
 * `async def` method), what it returns once run on the event loop (the
 * caller waits, the GIL released). NULL with an exception set, also when
 * r is NULL. With the GIL held. */
PyObject *opy_async_result(PyObject *r);

/* Stop the event loop (when it was started) and join its thread, at most
 * timeout_ms. With the GIL held. */
void opy_async_stop(int timeout_ms);

/* Drop the wrappers and helpers (before Py_FinalizeEx). With the GIL. */
void opy_async_finalize(void);

#endif /* OPY_ASYNC_H */
