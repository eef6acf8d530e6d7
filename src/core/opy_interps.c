/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_interps.c - the interpreters of "Python.Interpreters": which one runs
 * a REST callback, what each one registered, the thread states Orthanc
 * threads made in them.
 */
#include "opy_interps.h"
#include "opy_log.h"
#include "opy_registry.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opy_interps_n = 1;
int opy_interps_wanted = 1;
PyInterpreterState *opy_interps[OPY_INTERPS_MAX];
OpyBusy opy_interps_busy[OPY_INTERPS_MAX];
atomic_uint opy_interps_generation;

static int untracked;           /* a thread state could not be tracked */

int
opy_interps_current(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    int i;

    for (i = 0; i < opy_interps_n; i++)
        if (opy_interps[i] == interp)
            return i;
    return -1;
}

int
opy_interps_check_config(const OpyConfig *cfg)
{
    if (cfg->interpreters <= 1)
        return 0;
#if OPY_HAVE_SUBINTERPRETERS
    return 0;
#else
    opy_log(OPY_LOG_ERROR, "OPY0051 \"Python.Interpreters\": %d needs Python 3.12 or newer (interpreters "
            "with their own GIL, as in Debian 13's Python 3.13); this plugin embeds Python %d.%d: remove the "
            "key or set it to 1; Orthanc will not start", cfg->interpreters, PY_MAJOR_VERSION, PY_MINOR_VERSION);
    return -1;
#endif
}

/* ---- what each interpreter registered ---------------------------------- */

typedef struct {
    char **items;
    long long *results;     /* opy_interps_once: an int result, or ONCE_NONE */
    size_t n, cap;
} Notes;

#define ONCE_NONE LLONG_MIN

static Notes notes[OPY_INTERPS_MAX];

void
opy_interps_reset(void)
{
    size_t i, k;

    untracked = 0;
    for (i = 0; i < OPY_INTERPS_MAX; i++) {
        for (k = 0; k < notes[i].n; k++)
            free(notes[i].items[k]);
        free(notes[i].items);
        free(notes[i].results);
        notes[i].items = NULL;
        notes[i].results = NULL;
        notes[i].n = notes[i].cap = 0;
    }
}

int
opy_interps_note(const char *fname, const char *detail, int main_only)
{
    Notes *nt;
    char *text;
    size_t len;
    int idx;

    if (!opy_registration_is_open())    /* (open: in one of the plugin's interpreters) */
        return 0;
    idx = opy_interps_current();
    if (opy_interps_wanted <= 1)
        return 0;               /* one interpreter: nothing to compare */
    nt = &notes[idx];
    len = strlen(fname) + (detail ? strlen(detail) + 8 : 0) + 1;
    if ((text = malloc(len)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (detail)
        snprintf(text, len, "%s(\"%s\")", fname, detail);
    else
        snprintf(text, len, "%s", fname);
    if (nt->n == nt->cap) {
        size_t cap = nt->cap ? 2 * nt->cap : 16;
        char **items = realloc(nt->items, cap * sizeof *items);
        long long *results = items ? realloc(nt->results, cap * sizeof *results) : NULL;

        if (items != NULL)
            nt->items = items;
        if (results == NULL) {
            free(text);
            PyErr_NoMemory();
            return -1;
        }
        nt->results = results;
        nt->cap = cap;
    }
    nt->results[nt->n] = ONCE_NONE;
    nt->items[nt->n++] = text;
    return idx > 0 && main_only ? 1 : 0;
}

int
opy_interps_once(const char *fname, PyObject **result, int *slot)
{
    size_t before = notes[0].n, k;
    int r = opy_interps_note(fname, NULL, 1), idx;

    *slot = -1;
    if (r <= 0) {
        if (r == 0 && notes[0].n > before)
            *slot = (int) notes[0].n - 1;       /* the main interpreter noted it just now */
        return r;
    }
    idx = opy_interps_current();
    k = notes[idx].n - 1;
    if (k < notes[0].n && strcmp(notes[0].items[k], notes[idx].items[k]) == 0 &&
        notes[0].results[k] != ONCE_NONE)
        *result = PyLong_FromLongLong(notes[0].results[k]);
    else
        *result = Py_NewRef(Py_None);
    return *result != NULL ? 1 : -1;
}

void
opy_interps_once_keep(int slot, PyObject *result)
{
    if (result != NULL && PyLong_Check(result) && (size_t) slot < notes[0].n) {
        long long v = PyLong_AsLongLong(result);

        if (v == -1 && PyErr_Occurred())
            PyErr_Clear();
        else
            notes[0].results[slot] = v;
    }
}

/* The main interpreter notes its registrations only once a second one is
 * asked for: opy_interp.c sets opy_interps_n before the main import. */
char *
opy_interps_compare(int idx)
{
    const Notes *a = &notes[0], *b = &notes[idx];
    size_t k, len;
    char *text;

    for (k = 0; k < a->n && k < b->n; k++)
        if (strcmp(a->items[k], b->items[k]) != 0)
            break;
    if (k == a->n && k == b->n)
        return NULL;
    len = 256 + (k < a->n ? strlen(a->items[k]) : 0) + (k < b->n ? strlen(b->items[k]) : 0);
    if ((text = malloc(len)) == NULL)
        return NULL;
    snprintf(text, len, "registration #%zu differs: the main interpreter called %s%s, interpreter %d "
             "called %s%s (%zu registrations against %zu)", k + 1,
             k < a->n ? "orthanc." : "", k < a->n ? a->items[k] : "nothing more",
             idx + 1, k < b->n ? "orthanc." : "", k < b->n ? b->items[k] : "nothing more", a->n, b->n);
    return text;
}

/* ---- thread states of Orthanc threads ----------------------------------- */

typedef struct {
    PyThreadState **items;
    size_t n, cap;
} Tracked;

static Tracked tracked[OPY_INTERPS_MAX];
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;

void
opy_interps_track(int idx, PyThreadState *ts)
{
    Tracked *t = &tracked[idx];

    pthread_mutex_lock(&track_lock);
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        PyThreadState **items = realloc(t->items, cap * sizeof *items);

        if (items == NULL) {
            /* not tracked: the stop leaves Python unfinalized */
            untracked = 1;
            pthread_mutex_unlock(&track_lock);
            opy_log(OPY_LOG_WARNING, "OPY0053 out of memory tracking a thread state of Python interpreter %d: "
                    "Python will be left unfinalized at the stop", idx + 1);
            return;
        }
        t->items = items;
        t->cap = cap;
    }
    t->items[t->n++] = ts;
    pthread_mutex_unlock(&track_lock);
}

void
opy_interps_untrack(int idx, PyThreadState *ts)
{
    Tracked *t = &tracked[idx];
    size_t k;

    pthread_mutex_lock(&track_lock);
    for (k = 0; k < t->n; k++) {
        if (t->items[k] == ts) {
            t->items[k] = t->items[--t->n];
            break;
        }
    }
    pthread_mutex_unlock(&track_lock);
}

int
opy_interps_delete_tracked(int idx)
{
    Tracked *t = &tracked[idx];
    size_t k;

    if (untracked)
        return -1;
    pthread_mutex_lock(&track_lock);
    for (k = 0; k < t->n; k++) {
        PyThreadState_Clear(t->items[k]);
        PyThreadState_Delete(t->items[k]);
    }
    free(t->items);
    t->items = NULL;
    t->n = t->cap = 0;
    pthread_mutex_unlock(&track_lock);
    return 0;
}

/* ---- which interpreter serves a REST call ------------------------------- */

/* When each interpreter was last chosen (a sequence number). Among equally
 * busy interpreters the one chosen longest ago wins: its callback started
 * first and is the likeliest to end first. (An answer may reach the client
 * before its callback returns: a client's next request then finds both
 * interpreters busy, its own one only for the few microseconds left.) */
static atomic_ullong picked_at[OPY_INTERPS_MAX];
static atomic_ullong pick_seq;

int
opy_interps_pick(PyObject *const *callables)
{
    int n = opy_interps_n, best = 0, i, load = 0;
    unsigned long long when = 0;

    for (i = 0; i < n; i++) {
        int b;
        unsigned long long t;

        if (callables[i] == NULL)
            continue;
        b = atomic_load_explicit(&opy_interps_busy[i].n, memory_order_relaxed);
        t = atomic_load_explicit(&picked_at[i], memory_order_relaxed);
        if (i == 0 || b < load || (b == load && t < when)) {
            best = i;
            load = b;
            when = t;
        }
    }
    atomic_store_explicit(&picked_at[best], atomic_fetch_add_explicit(&pick_seq, 1, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    return best;
}
