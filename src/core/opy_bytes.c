/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_bytes.c - large SDK answers handed to Python as bytes without a
 * second block.
 *
 * RestApiGet('/instances/<id>/file') and friends answer in an
 * OrthancPluginMemoryBuffer that Orthanc filled with malloc(). Copying it
 * into a new bytes object costs a second block of the same size: for an
 * 8 MB file, the copy itself, the page faults of the new block, and, once
 * the three blocks (Orthanc's string, its answer buffer, the copy) are
 * freed together at the top of the thread's heap, glibc giving the pages
 * back to the kernel (madvise DONTNEED above its dynamic trim threshold)
 * so that the next call faults them in again: 5 x the time of a native
 * plugin in bench/run.py.
 *
 * Instead, the buffer becomes the bytes object: realloc() grows it by the
 * header of a bytes object (in place, at the top of the heap), the data
 * moves up behind the header (one memmove, no new pages) and the header is
 * initialised as CPython does for a new bytes object. Python later frees it
 * with PyObject_Free(), which hands blocks it did not allocate itself to
 * PyMem_RawFree(), i.e. free(), with the default allocators: so this is
 * done only while the allocators are the default ones, "pymalloc" or
 * "malloc", checked at every call (PYTHONMALLOC=debug, -X dev or
 * tracemalloc install hooks that would not know the block: the answer is
 * copied then). Orthanc allocates the buffers of its answers with malloc()
 * and frees them with the context's Free, which is free(): checked too (a
 * build of Orthanc with an allocator of its own would get copies).
 *
 * It needs the layout of PyBytesObject (CPython's API, not the limited
 * API): under Py_LIMITED_API the answers are always copied.
 */
#include "opy_bytes.h"
#include "opy_sdk.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

atomic_ulong opy_bytes_adopted;

#ifndef Py_LIMITED_API

typedef const char *(*AllocatorNameFn)(void);

/* CPython's own check of which allocators are installed (exported by
 * libpython since 3.8, not part of its documented API): resolved at run
 * time, so that a Python without it just copies. */
static AllocatorNameFn
allocator_name_fn(void)
{
    static AllocatorNameFn fn;
    static int looked_up;

    if (!looked_up) {
        fn = (AllocatorNameFn) dlsym(RTLD_DEFAULT, "_PyMem_GetCurrentAllocatorName");
        looked_up = 1;
    }
    return fn;
}

static int
default_allocators(void)
{
    AllocatorNameFn fn = allocator_name_fn();
    const char *name = fn != NULL ? fn() : NULL;

    return name != NULL && (strcmp(name, "pymalloc") == 0 || strcmp(name, "malloc") == 0);
}

/* The layout of PyBytesObject is that of the headers the plugin was built
 * with: the running libpython must be the same minor version (its soname
 * says so; checked anyway, one comparison). */
static int
same_python(void)
{
    return (Py_Version >> 16) == (PY_VERSION_HEX >> 16);
}

/* Orthanc's buffers come from the malloc() the plugin's realloc() and
 * Python's free() belong to: the context frees them with free() itself. */
static int
same_malloc(void)
{
    return opy_context != NULL && opy_context->Free == free;
}

PyObject *
opy_bytes_adopt(OrthancPluginMemoryBuffer *buf)
{
    const size_t head = offsetof(PyBytesObject, ob_sval);
    size_t size = buf->size;
    char *block;
    PyBytesObject *b;

    if (buf->data == NULL || size < OPY_BYTES_ADOPT_MIN || size > (size_t) PY_SSIZE_T_MAX - head - 1 ||
        !same_malloc() || !same_python() || !default_allocators())
        return NULL;
    block = realloc(buf->data, head + size + 1);
    if (block == NULL)
        return NULL;                    /* buf->data is still Orthanc's block */
    memmove(block + head, block, size);
    block[head + size] = '\0';
    buf->data = NULL;
    buf->size = 0;
    b = (PyBytesObject *) block;
    (void) PyObject_Init((PyObject *) b, &PyBytes_Type);
    Py_SET_SIZE(b, (Py_ssize_t) size);
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* ob_shash, 3.12+ */
#endif
    b->ob_shash = -1;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
    atomic_fetch_add_explicit(&opy_bytes_adopted, 1, memory_order_relaxed);
    return (PyObject *) b;
}

#else /* Py_LIMITED_API */

PyObject *
opy_bytes_adopt(OrthancPluginMemoryBuffer *buf)
{
    (void) buf;
    return NULL;
}

#endif
