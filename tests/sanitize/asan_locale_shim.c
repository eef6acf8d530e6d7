/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * asan_locale_shim.c - lets Orthanc start with the ASan runtime preloaded
 * (scripts/sanitize.sh preloads it after libasan.so).
 *
 * Without it, on Debian 12 (glibc 2.36, gcc 12 and clang 14 runtimes):
 * the constructor of libp11-kit (pulled in by Orthanc's TLS libraries) calls
 * newlocale(), which takes glibc's setlocale lock for writing and then
 * calls malloc(); that first malloc() initialises ASan, whose initialisation
 * calls dlerror() -> dcgettext(), which takes and releases the same lock as
 * a reader from the thread that holds it for writing, leaving the lock
 * corrupted: the next setlocale() (Python's pre-initialisation in the
 * plugin) waits forever.
 *
 * The shim interposes newlocale() and makes one malloc() before the real
 * one runs, so that ASan initialises without the lock held. It is built
 * without sanitizers and changes nothing else.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <locale.h>
#include <stdlib.h>

typedef locale_t (*NewLocaleFn)(int, const char *, locale_t);

locale_t
newlocale(int category_mask, const char *locale, locale_t base)
{
    static NewLocaleFn real;

    if (real == NULL) {
        /* ASan's lazy initialisation, now (volatile: the compiler would
         * drop a malloc/free pair) */
        void *volatile p = malloc(1);

        free(p);
        real = (NewLocaleFn) dlsym(RTLD_NEXT, "newlocale");
        if (real == NULL)
            abort();
    }
    return real(category_mask, locale, base);
}
