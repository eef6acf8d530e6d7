/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_interp.c - interpreter lifecycle (full C API allowed here only).
 *
 * Start: PyConfig without signal handlers, sys.executable = a real Python
 * interpreter (so multiprocessing's spawn and forkserver start Python, not
 * Orthanc), the built-in module registered with PyImport_AppendInittab,
 * sys.stdout / sys.stderr replaced by the plugin's line-buffered streams, the script's folder first on
 * sys.path, then the script imported as a module named after its file
 * (any file name: "my-plugin-2.0.py" gives module "my-plugin-2.0").
 *
 * Stop: changes drained, our threads joined, new entries refused, script
 * threads given OPY_STOP_GRACE_MS to end, callbacks dropped, Py_FinalizeEx.
 */
#include "opy_python.h"
#include "opy_interp.h"
#include "opy_cb_changes.h"
#include "opy_families.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_registry.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef OPY_PYTHON_EXECUTABLE
#define OPY_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

#define OPY_STOP_GRACE_MS 3000

static PyThreadState *main_tstate;
static int atfork_registered;
static int running;

/* ---- memory usage display (Python.DisplayMemoryUsage) ---------------- */

static pthread_t memory_thread;
static int memory_running;
static int memory_stop;
static pthread_mutex_t memory_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t memory_cond = PTHREAD_COND_INITIALIZER;

static long
rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *
memory_main(void *arg)
{
    (void) arg;
    pthread_mutex_lock(&memory_lock);
    while (!memory_stop) {
        struct timespec until;
        Py_ssize_t blocks = -1;
        int token;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&memory_cond, &memory_lock, &until);
        if (memory_stop)
            break;
        pthread_mutex_unlock(&memory_lock);
        token = opy_gil_enter();
        if (token >= 0) {
            PyObject *sys = PyImport_ImportModule("sys");
            PyObject *r = sys ? PyObject_CallMethod(sys, "getallocatedblocks", NULL) : NULL;

            blocks = r ? PyLong_AsSsize_t(r) : -1;
            PyErr_Clear();
            Py_XDECREF(r);
            Py_XDECREF(sys);
            opy_gil_leave(token);
        }
        opy_log(OPY_LOG_WARNING, "OPY0012 Python memory usage: %zd allocated blocks, "
                "process resident size %ld KiB", blocks, rss_kib());
        pthread_mutex_lock(&memory_lock);
    }
    pthread_mutex_unlock(&memory_lock);
    return NULL;
}

static void
memory_display_stop(void)
{
    if (!memory_running)
        return;
    pthread_mutex_lock(&memory_lock);
    memory_stop = 1;
    pthread_cond_signal(&memory_cond);
    pthread_mutex_unlock(&memory_lock);
    pthread_join(memory_thread, NULL);
    memory_running = 0;
}

/* ---- start ------------------------------------------------------------ */

/* A process forked from Orthanc by Python (multiprocessing's default "fork"
 * start method) is a Python worker, not an Orthanc: it must not keep
 * Orthanc's handlers for SIGTERM/SIGINT, which only set a "stop" flag, or
 * Pool.terminate() and a service manager's SIGTERM could not end it. */
static void
after_fork_in_child(void)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
}


/* Make libpython's symbols global (extension modules such as numpy expect
 * them) and keep this plugin and libpython loaded after Orthanc dlcloses
 * us: a script thread may outlive the plugin. */
static void
pin_libraries(void)
{
    Dl_info info;

    if (dladdr((void *) &Py_InitializeFromConfig, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD | RTLD_NODELETE);
    if (dladdr((void *) &opy_interp_start, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static int
check_status(PyStatus status, const char *what)
{
    if (!PyStatus_Exception(status))
        return 0;
    opy_log(OPY_LOG_ERROR, "OPY0009 Python could not be started (%s): %s%s%s", what,
            status.func ? status.func : "", status.func ? ": " : "",
            status.err_msg ? status.err_msg : "exit requested");
    return -1;
}

static int
start_python(const OpyConfig *cfg)
{
    PyConfig config;
    int rc = -1;

    opy_gil_preinit();
    if (PyImport_AppendInittab("orthanc", PyInit_orthanc) < 0) {
        opy_log(OPY_LOG_ERROR, "OPY0009 Python could not be started: cannot register module orthanc");
        return -1;
    }
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.verbose = cfg->verbose;
    if (check_status(PyConfig_SetBytesString(&config, &config.program_name, OPY_PYTHON_EXECUTABLE),
                     "program name") < 0 ||
        check_status(PyConfig_SetBytesString(&config, &config.executable, OPY_PYTHON_EXECUTABLE),
                     "executable") < 0 ||
        check_status(Py_InitializeFromConfig(&config), "initialization") < 0)
        goto done;
    rc = 0;
done:
    PyConfig_Clear(&config);
    return rc;
}

#if PY_VERSION_HEX >= 0x030E0000
/* Python 3.14 made "forkserver" multiprocessing's default start method on
 * Linux. Its children import the module of every pickled function anew;
 * a plugin script's module imports orthanc, which exists only inside
 * Orthanc, and the seed page's sample creates its pool at import: every
 * worker would fail, and the pool start new ones forever. The platform
 * default stays "fork", as up to 3.13 (the "fork" context is what the
 * sample was written for); a script that chooses a start method
 * (set_start_method, get_context) still gets it. */
static const char fork_default_source[] =
    "import multiprocessing.context as _opy_mpc\n"
    "_opy_mpc._default_context._default_context = _opy_mpc._concrete_contexts['fork']\n"
    "del _opy_mpc\n";

static void
keep_fork_default(void)
{
    if (PyRun_SimpleString(fork_default_source) != 0)
        opy_log(OPY_LOG_WARNING, "OPY0028 could not keep \"fork\" as multiprocessing's default start method: "
                "pools of the script use Python's default (forkserver)");
}
#endif

/* The module name of a script named orthanc.py (README, "What the script sees"). */
#define OPY_PRIVATE_SCRIPT_MODULE "_orthanc_script"

/* Import the script at `path` as module `name`. 0, or -1 with an exception. */
static int
import_script(const char *dir, const char *path, const char *name)
{
    PyObject *sys_path = NULL, *d = NULL, *util = NULL, *spec = NULL, *module = NULL;
    PyObject *modules, *loader = NULL, *r = NULL;
    int rc = -1;

    sys_path = PySys_GetObject("path");             /* borrowed */
    if (sys_path == NULL || (d = PyUnicode_DecodeFSDefault(dir)) == NULL ||
        PyList_Insert(sys_path, 0, d) < 0)
        goto done;
    sys_path = NULL;
    util = PyImport_ImportModule("importlib.util");
    if (util == NULL)
        goto done;
    spec = PyObject_CallMethod(util, "spec_from_file_location", "ss", name, path);
    if (spec == NULL)
        goto done;
    if (spec == Py_None) {
        PyErr_Format(PyExc_ImportError, "cannot load %s as a Python module", path);
        goto done;
    }
    module = PyObject_CallMethod(util, "module_from_spec", "O", spec);
    if (module == NULL)
        goto done;
    modules = PyImport_GetModuleDict();             /* borrowed */
    if (PyDict_SetItemString(modules, name, module) < 0)   /* no steal */
        goto done;
    loader = PyObject_GetAttrString(spec, "loader");
    if (loader == NULL)
        goto done;
    r = PyObject_CallMethod(loader, "exec_module", "O", module);
    if (r == NULL) {
        PyObject *exc = opy_err_take();

        if (PyDict_DelItemString(modules, name) < 0)
            PyErr_Clear();
        if (exc != NULL)
            opy_err_restore(exc);       /* steals exc */
        goto done;
    }
    rc = 0;
done:
    Py_XDECREF(r);
    Py_XDECREF(loader);
    Py_XDECREF(module);
    Py_XDECREF(spec);
    Py_XDECREF(util);
    Py_XDECREF(d);
    return rc;
}

int
opy_interp_start(const OpyConfig *cfg, const char *script)
{
    const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;
    char *dir = NULL, *name = NULL;
    int rc = -1;

    /* script is absolute (the caller resolved it): dir is never empty */
    dir = strndup(script, base - script > 1 ? (size_t) (base - script - 1) : 1);
    /* the caller checked the ".py"; a script named orthanc.py is imported
     * as OPY_PRIVATE_SCRIPT_MODULE, so that "import orthanc" (in the script
     * itself too) keeps finding the built-in module */
    name = strcmp(base, "orthanc.py") == 0 ? strdup(OPY_PRIVATE_SCRIPT_MODULE)
                                           : strndup(base, strlen(base) - 3);
    opy_script_name = strdup(base);
    if (dir == NULL || name == NULL || opy_script_name == NULL)
        goto done;
    opy_log(OPY_LOG_WARNING, "OPY0008 Using Python script \"%s\" from directory: %s",
            opy_script_name, dir);

    pin_libraries();
    if (!atfork_registered && pthread_atfork(NULL, NULL, after_fork_in_child) == 0)
        atfork_registered = 1;
    if (start_python(cfg) < 0)
        goto done;
    main_tstate = PyThreadState_Get();
    running = 1;
    if (Py_Version >> 16 != PY_VERSION_HEX >> 16)
        opy_log(OPY_LOG_WARNING, "OPY0021 built for Python %d.%d, running with %d.%d",
                PY_MAJOR_VERSION, PY_MINOR_VERSION, (int) (Py_Version >> 24),
                (int) ((Py_Version >> 16) & 0xFF));
    opy_gil_init();
    opy_module = PyImport_ImportModule("orthanc");
    if (opy_module == NULL) {
        opy_error_log("OPY0009", "creating the orthanc module");
        goto stop;
    }
    opy_log_install_streams(cfg->log_output);
#if PY_VERSION_HEX >= 0x030E0000
    keep_fork_default();
#endif

    opy_registration_open = 1;
    if (import_script(dir, script, name) < 0) {
        opy_registration_open = 0;
        opy_error_log("OPY0007", "the import of the script (Orthanc will not start)");
        goto stop;
    }
    opy_cb_changes_watch_stop();
    opy_registration_open = 0;

    if (cfg->display_memory) {
        memory_stop = 0;
        memory_running = pthread_create(&memory_thread, NULL, memory_main, NULL) == 0;
    }
    PyEval_SaveThread();
    rc = 0;
    goto done;
stop:
    PyEval_SaveThread();
    opy_interp_stop();
done:
    free(name);
    free(dir);
    return rc;
}

/* ---- stop ------------------------------------------------------------- */

/* Runs the atexit handlers (multiprocessing pools, ...) in a thread, so
 * that a stuck handler cannot hang Orthanc's stop: True when they ended.
 * When they did not (e.g. a pool whose workers were killed), the child
 * processes of multiprocessing are killed so that none outlives Orthanc. */
static const char run_atexit_source[] =
    "def _opy_atexit(timeout):\n"
    "    import atexit, threading\n"
    "    t = threading.Thread(target=atexit._run_exitfuncs, name='orthanc-atexit', daemon=True)\n"
    "    t.start()\n"
    "    t.join(timeout)\n"
    "    if not t.is_alive():\n"
    "        return True\n"
    "    import sys\n"
    "    mp = sys.modules.get('multiprocessing')\n"
    "    if mp is not None:\n"
    "        for p in mp.active_children():\n"
    "            p.kill()\n"
    "    return False\n";

static const char join_threads_source[] =
    "def _opy_join(grace):\n"
    "    import threading, time\n"
    "    deadline = time.monotonic() + grace\n"
    "    main = threading.main_thread()\n"
    "    def script_threads():\n"
    "        return [t for t in threading.enumerate()\n"
    "                if t is not main and not t.daemon and t.is_alive()\n"
    "                and t is not threading.current_thread()]\n"
    "    for t in script_threads():\n"
    "        t.join(max(0.0, deadline - time.monotonic()))\n"
    "    return ', '.join(repr(t.name) for t in script_threads())\n";

/* Defines the function `fname` from `source` and calls it with a float
 * argument. Returns a new reference to its result, or NULL (logged with
 * `id`). With the GIL held. */
static PyObject *
run_stop_helper(const char *source, const char *fname, double arg, const char *id)
{
    PyObject *globals = NULL, *code = NULL, *r = NULL, *f, *result = NULL;

    globals = PyDict_New();
    if (globals == NULL ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto done;
    code = Py_CompileString(source, "<orthanc-stop>", Py_file_input);
    if (code == NULL || (r = PyEval_EvalCode(code, globals, globals)) == NULL)
        goto done;
    f = PyDict_GetItemString(globals, fname);      /* borrowed */
    if (f != NULL)
        result = PyObject_CallFunction(f, "d", arg);
done:
    if (result == NULL)
        opy_error_log(id, fname);
    Py_XDECREF(r);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    return result;
}

/* Returns a malloc'ed list of the names of threads still alive, "" when
 * none, NULL on error (logged). With the GIL held. */
static char *
join_script_threads(void)
{
    PyObject *names = run_stop_helper(join_threads_source, "_opy_join",
                                      OPY_STOP_GRACE_MS / 1000.0, "OPY0014");
    const char *s = names ? PyUnicode_AsUTF8(names) : NULL;
    char *result = s ? strdup(s) : NULL;

    PyErr_Clear();
    Py_XDECREF(names);
    return result;
}

/* 1 when the atexit handlers finished within the grace period. */
static int
run_atexit(void)
{
    PyObject *ok = run_stop_helper(run_atexit_source, "_opy_atexit",
                                   OPY_STOP_GRACE_MS / 1000.0, "OPY0024");
    int r = ok != NULL && PyObject_IsTrue(ok) == 1;

    PyErr_Clear();
    Py_XDECREF(ok);
    return r;
}

void
opy_interp_stop(void)
{
    char *alive;
    int stuck;

    if (!running)
        return;
    running = 0;
    stuck = opy_cb_changes_stop(5000) < 0;     /* delivers ORTHANC_STOPPED too */
    memory_display_stop();
    opy_sdk_close();
    if (stuck) {                    /* OPY0027 logged: Python is left as it is */
        (void) opy_gil_close(0);
        return;
    }
    if (opy_gil_close(5000) < 0)
        opy_log(OPY_LOG_WARNING, "OPY0022 a Python callback is still running while Orthanc stops");

    PyEval_RestoreThread(main_tstate);
    alive = join_script_threads();
    opy_log_flush_streams();        /* also when Python is left unfinalized */
    if (alive != NULL && alive[0] != '\0') {
        opy_log(OPY_LOG_WARNING, "OPY0014 script %s: these threads are still running %d ms after "
                "Orthanc stopped: %s; Python is left running (not finalized) so Orthanc can exit",
                opy_script_name, OPY_STOP_GRACE_MS, alive);
        free(alive);
        PyEval_SaveThread();
        return;
    }
    free(alive);
    if (!run_atexit()) {
        opy_log(OPY_LOG_WARNING, "OPY0024 script %s: its atexit handlers (for instance a "
                "multiprocessing pool) did not finish within %d ms; Python is left running "
                "(not finalized) so Orthanc can exit", opy_script_name, OPY_STOP_GRACE_MS);
        PyEval_SaveThread();
        return;
    }
    opy_families_finalize();
    Py_CLEAR(opy_module);
    if (Py_FinalizeEx() < 0)
        opy_log(OPY_LOG_WARNING, "OPY0015 Python finalization reported an error (buffered data lost)");
    main_tstate = NULL;
}
