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
#include "opy_async.h"
#include "opy_cb_changes.h"
#include "opy_cb_audit_log.h"
#include "opy_devmode.h"
#include "opy_families.h"
#include "opy_error.h"
#include "opy_gil.h"
#include "opy_interps.h"
#include "opy_cb_rest.h"
#include "opy_log.h"
#include "opy_module.h"
#include "opy_registry.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef OPY_PYTHON_EXECUTABLE
#define OPY_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

#define OPY_STOP_GRACE_MS 3000

static PyThreadState *main_tstate;
static int atfork_registered;
static int running;
static char *script_names;          /* opy_script_name, owned */
char *opy_interp_import_error;

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

/* ---- virtual environment (Python.VirtualEnv, VIRTUAL_ENV) ------------- */

/* The version "X.Y" a venv was made for: "version" (python -m venv) or
 * "version_info" (virtualenv) of its pyvenv.cfg. 0 when found. */
static int
venv_cfg_version(const char *cfg_path, int *major, int *minor)
{
    char line[512];
    FILE *f = fopen(cfg_path, "r");
    int found = -1;

    if (f == NULL)
        return -1;
    while (found < 0 && fgets(line, sizeof line, f) != NULL) {
        char *p = line, *eq = strchr(line, '=');
        size_t klen;

        if (eq == NULL)
            continue;
        while (*p == ' ' || *p == '\t')
            p++;
        klen = (size_t) (eq - p);
        while (klen > 0 && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
            klen--;
        if ((klen == 7 && strncmp(p, "version", 7) == 0) ||
            (klen == 12 && strncmp(p, "version_info", 12) == 0)) {
            if (sscanf(eq + 1, " %d.%d", major, minor) == 2)
                found = 0;
        }
    }
    fclose(f);
    return found;
}

/* The version of the lib/pythonX.Y folder of a venv. 0 when found. */
static int
venv_lib_version(const char *venv, int *major, int *minor)
{
    char path[PATH_MAX];
    DIR *d;
    struct dirent *e;
    int found = -1;

    if (snprintf(path, sizeof path, "%s/lib", venv) >= (int) sizeof path || (d = opendir(path)) == NULL)
        return -1;
    while (found < 0 && (e = readdir(d)) != NULL)
        if (sscanf(e->d_name, "python%d.%d", major, minor) == 2)
            found = 0;
    closedir(d);
    return found;
}

/* Checks the virtual environment at `configured` (from `origin`, for the
 * messages) and returns the malloc'ed path of its interpreter, or NULL
 * after logging why it is refused. */
static char *
check_venv(const char *configured, const char *origin)
{
    char *venv = realpath(configured, NULL), *exe = NULL;
    char path[PATH_MAX];
    struct stat st;
    int major = 0, minor = 0;
    int running_major = (int) (Py_Version >> 24), running_minor = (int) ((Py_Version >> 16) & 0xFF);
    static const char *const names[] = {"python3", "python"};
    size_t i;

    if (venv == NULL || stat(venv, &st) != 0 || !S_ISDIR(st.st_mode)) {
        opy_log(OPY_LOG_ERROR, "OPY0040 the virtual environment \"%s\" (%s) is not a folder (%s); "
                "Orthanc will not start", configured, origin, venv == NULL ? strerror(errno) : "not a directory");
        goto error;
    }
    if (snprintf(path, sizeof path, "%s/pyvenv.cfg", venv) >= (int) sizeof path ||
        stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
        opy_log(OPY_LOG_ERROR, "OPY0040 the folder \"%s\" (%s) is not a virtual environment: it has no "
                "pyvenv.cfg (make one with: python3 -m venv %s); Orthanc will not start",
                configured, origin, configured);
        goto error;
    }
    if (venv_cfg_version(path, &major, &minor) < 0 && venv_lib_version(venv, &major, &minor) < 0) {
        opy_log(OPY_LOG_ERROR, "OPY0041 the virtual environment \"%s\" (%s) does not say which Python it "
                "was made for (no version in pyvenv.cfg, no lib/pythonX.Y); the plugin embeds Python %d.%d; "
                "Orthanc will not start", configured, origin, running_major, running_minor);
        goto error;
    }
    if (major != running_major || minor != running_minor) {
        opy_log(OPY_LOG_ERROR, "OPY0041 the virtual environment \"%s\" (%s) was made for Python %d.%d, "
                "but the plugin embeds Python %d.%d: make it again with python%d.%d -m venv; "
                "Orthanc will not start", configured, origin, major, minor, running_major, running_minor,
                running_major, running_minor);
        goto error;
    }
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (snprintf(path, sizeof path, "%s/bin/%s", venv, names[i]) < (int) sizeof path &&
            access(path, X_OK) == 0) {
            exe = strdup(path);
            break;
        }
    }
    if (exe == NULL)
        opy_log(OPY_LOG_ERROR, "OPY0040 the virtual environment \"%s\" (%s) has no bin/python3; "
                "Orthanc will not start", configured, origin);
    else
        opy_log(OPY_LOG_WARNING, "OPY0042 Using the virtual environment %s (Python %d.%d, %s)",
                venv, major, minor, origin);
error:
    free(venv);
    return exe;
}

static int
start_python(const OpyConfig *cfg, const char *executable)
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
    /* With a venv's interpreter as sys.executable, Python's own start
     * (site.py reads the pyvenv.cfg next to it) makes sys.prefix the venv
     * and puts its site-packages on sys.path, as running that interpreter
     * would; multiprocessing's spawn / forkserver children start it too. */
    if (check_status(PyConfig_SetBytesString(&config, &config.program_name, executable),
                     "program name") < 0 ||
        check_status(PyConfig_SetBytesString(&config, &config.executable, executable),
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

/* sys.path: the folders of the scripts first (in their order, each once),
 * then the folders of Python.PythonPath, then Python's own. 0, or -1 with
 * an exception. */
static int
setup_sys_path(char *const *dirs, size_t n_dirs, const OpyConfig *cfg)
{
    PyObject *sys_path = PySys_GetObject("path");  /* borrowed */
    Py_ssize_t at = 0;
    size_t i, j;

    if (sys_path == NULL || !PyList_Check(sys_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    for (i = 0; i < n_dirs + cfg->n_python_path; i++) {
        const char *dir = i < n_dirs ? dirs[i] : cfg->python_path[i - n_dirs];
        char *resolved = NULL;
        PyObject *d;
        int dup = 0;

        for (j = 0; j < i && j < n_dirs; j++)
            dup |= i < n_dirs && strcmp(dirs[j], dir) == 0;
        if (dup)
            continue;
        if (i >= n_dirs) {
            struct stat st;

            resolved = realpath(dir, NULL);
            if (resolved == NULL || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
                opy_log(OPY_LOG_WARNING, "OPY0043 Python.PythonPath: \"%s\" is not a folder (added to "
                        "sys.path all the same)", dir);
        }
        d = PyUnicode_DecodeFSDefault(resolved ? resolved : dir);
        free(resolved);
        if (d == NULL || PyList_Insert(sys_path, at++, d) < 0) {
            Py_XDECREF(d);
            return -1;
        }
        Py_DECREF(d);
    }
    return 0;
}

/* Import the script at `path` as module `name`. 0, or -1 with an exception. */
static int
import_script(const char *path, const char *name)
{
    PyObject *util = NULL, *spec = NULL, *module = NULL;
    PyObject *modules, *loader = NULL, *r = NULL;
    int rc = -1;

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
    return rc;
}

/* Development mode: the modules imported from the folders of the scripts
 * and of Python.PythonPath (not from a site-packages) are watched too. */
static const char imported_source[] =
    "def _opy_imported(dirs):\n"
    "    import os, sys\n"
    "    out = []\n"
    "    for m in list(sys.modules.values()):\n"
    "        f = getattr(m, '__file__', None)\n"
    "        if not isinstance(f, str) or not f.endswith('.py'):\n"
    "            continue\n"
    "        f = os.path.abspath(f)\n"
    "        if '/site-packages/' in f or '/dist-packages/' in f:\n"
    "            continue\n"
    "        if any(f.startswith(d.rstrip('/') + '/') for d in dirs):\n"
    "            out.append(f)\n"
    "    return out\n";

static void
watch_imported(char *const *dirs, size_t n_dirs, const OpyConfig *cfg)
{
    PyObject *globals = NULL, *code = NULL, *r = NULL, *list = NULL, *files = NULL, *f;
    size_t i;
    Py_ssize_t k;

    list = PyList_New(0);
    globals = PyDict_New();
    if (list == NULL || globals == NULL ||
        PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto done;
    for (i = 0; i < n_dirs + cfg->n_python_path; i++) {
        char *real = realpath(i < n_dirs ? dirs[i] : cfg->python_path[i - n_dirs], NULL);
        PyObject *d = real ? PyUnicode_DecodeFSDefault(real) : NULL;

        free(real);
        if (d != NULL && PyList_Append(list, d) < 0) {
            Py_DECREF(d);
            goto done;
        }
        Py_XDECREF(d);
        PyErr_Clear();
    }
    code = Py_CompileString(imported_source, "<orthanc-devmode>", Py_file_input);
    if (code == NULL || (r = PyEval_EvalCode(code, globals, globals)) == NULL)
        goto done;
    f = PyDict_GetItemString(globals, "_opy_imported");    /* borrowed */
    if (f == NULL || (files = PyObject_CallFunctionObjArgs(f, list, NULL)) == NULL)
        goto done;
    for (k = 0; PyList_Check(files) && k < PyList_Size(files); k++) {
        PyObject *bytes = PyUnicode_EncodeFSDefault(PyList_GetItem(files, k));

        if (bytes != NULL)
            opy_dev_watch_add(PyBytes_AsString(bytes));
        Py_XDECREF(bytes);
    }
done:
    if (PyErr_Occurred())
        opy_error_log("OPY0047", "listing the modules to watch (development mode)");
    Py_XDECREF(files);
    Py_XDECREF(r);
    Py_XDECREF(code);
    Py_XDECREF(globals);
    Py_XDECREF(list);
}

#if OPY_HAVE_SUBINTERPRETERS
static PyThreadState *other_ts[OPY_INTERPS_MAX];   /* made by Py_NewInterpreterFromConfig */

/* The extension module that refused to load in an interpreter with its own
 * GIL, somewhere in the chain of the pending exception (numpy wraps it in an
 * ImportError of its own): its malloc'ed name, or NULL. Keeps the
 * exception. */
static char *
refused_extension(void)
{
    static const char marker[] = " does not support loading in subinterpreters";
    PyObject *exc = opy_err_take(), *e = exc;
    char *name = NULL;
    int hops;

    for (hops = 0; e != NULL && name == NULL && hops < 16; hops++) {
        PyObject *s = PyObject_Str(e), *next;
        const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
        const char *at = text ? strstr(text, marker) : NULL;

        PyErr_Clear();
        if (at != NULL) {
            /* "... module <name> does not support loading in subinterpreters" */
            const char *begin = at, *p;

            for (p = text; (p = strstr(p, "module ")) != NULL && p < at; p += 7)
                begin = p + 7;
            if (begin < at)
                name = strndup(begin, (size_t) (at - begin));
        }
        Py_XDECREF(s);
        next = PyException_GetCause(e);
        if (next == NULL)
            next = PyException_GetContext(e);
        if (e != exc)
            Py_DECREF(e);
        e = next;           /* new reference or NULL */
    }
    if (e != exc)
        Py_XDECREF(e);
    if (exc != NULL)
        opy_err_restore(exc);
    return name;
}

/* 1 when the text of the pending exception contains `text` (kept). */
static int
pending_mentions(const char *text)
{
    PyObject *exc = opy_err_take(), *s = exc ? PyObject_Str(exc) : NULL;
    const char *t = s ? PyUnicode_AsUTF8(s) : NULL;
    int found = t != NULL && strstr(t, text) != NULL;

    PyErr_Clear();
    Py_XDECREF(s);
    if (exc != NULL)
        opy_err_restore(exc);
    return found;
}

/* Starts interpreter i (> 0) with its own GIL, and imports the scripts in
 * it. Called and returns with the main interpreter's GIL held. 0, or -1
 * after logging why (opy_interp_import_error set). */
static int
start_other(const OpyConfig *cfg, int i, char *const *scripts, char *const *names, size_t n, char **dirs)
{
    PyInterpreterConfig ic;
    PyThreadState *ts = NULL;
    PyObject *module;
    char *diff, what[PATH_MAX + 128];
    size_t k;

    memset(&ic, 0, sizeof ic);
    ic.use_main_obmalloc = 0;
    ic.allow_fork = 0;              /* os.fork() in a thread of Orthanc's: not there */
    ic.allow_exec = 1;              /* subprocess works */
    ic.allow_threads = 1;
    /* Py_EndInterpreter cannot end an interpreter while a thread of it
     * lives, and a daemon thread is never joined: refused (OPY0051) */
    ic.allow_daemon_threads = 0;
    ic.check_multi_interp_extensions = 1;
    ic.gil = PyInterpreterConfig_OWN_GIL;
    if (check_status(Py_NewInterpreterFromConfig(&ts, &ic), "another interpreter") < 0)
        return -1;                  /* the main one's thread state is current again */
    other_ts[i] = ts;
    opy_interps[i] = PyThreadState_GetInterpreter(ts);
    opy_interps_n = i + 1;
    module = PyImport_ImportModule("orthanc");
    if (module == NULL) {
        opy_error_log("OPY0009", "creating the orthanc module in another interpreter");
        goto fail;
    }
    Py_DECREF(module);              /* sys.modules keeps it */
    opy_log_install_streams(cfg->log_output);
    if (setup_sys_path(dirs, n, cfg) < 0) {
        opy_error_log("OPY0009", "setting sys.path");
        goto fail;
    }
    opy_registration_begin(i);
    for (k = 0; k < n; k++) {
        opy_script_current = opy_scripts_bases[k];
        if (import_script(scripts[k], names[k]) < 0) {
            char *ext = refused_extension();
            int daemon = ext == NULL && pending_mentions("daemon threads are disabled");

            opy_registration_end();
            opy_script_current = NULL;
            snprintf(what, sizeof what, "the import of the script %s in Python interpreter %d of %d "
                     "(\"Python.Interpreters\"; %s)", opy_scripts_bases[k], i + 1, cfg->interpreters,
                     cfg->development_mode ? "development mode: Orthanc answers with this traceback"
                                           : "Orthanc will not start");
            free(opy_interp_import_error);
            opy_interp_import_error = opy_error_log_text("OPY0007", what);
            if (ext != NULL)
                opy_log(OPY_LOG_ERROR, "OPY0051 script %s: the extension module %s cannot be imported in an "
                        "interpreter with its own GIL (\"Python.Interpreters\": %d); set \"Python.Interpreters\" "
                        "to 1 to use it; Orthanc will not start", opy_scripts_bases[k], ext, cfg->interpreters);
            if (daemon)
                opy_log(OPY_LOG_ERROR, "OPY0051 script %s starts a daemon thread while it is imported: the other "
                        "interpreters of \"Python.Interpreters\" cannot run daemon threads (an interpreter cannot "
                        "end while one lives); start it in the main interpreter only, for instance from the "
                        "change callback on ChangeType.ORTHANC_STARTED (which runs in the main one), or set "
                        "\"Python.Interpreters\" to 1; Orthanc will not start", opy_scripts_bases[k]);
            free(ext);
            goto fail;
        }
    }
    opy_registration_end();
    opy_script_current = NULL;
    diff = opy_interps_compare(i);
    if (diff != NULL) {
        opy_log(OPY_LOG_ERROR, "OPY0052 script %s: Python interpreter %d of %d (\"Python.Interpreters\") "
                "registers other callbacks than the main one: %s; every interpreter imports the same scripts "
                "and must register the same; Orthanc will not start", opy_script_name, i + 1,
                cfg->interpreters, diff);
        free(opy_interp_import_error);
        opy_interp_import_error = diff;
        goto fail;
    }
    PyEval_SaveThread();
    PyEval_RestoreThread(main_tstate);
    return 0;
fail:
    PyEval_SaveThread();
    PyEval_RestoreThread(main_tstate);
    return -1;
}
#endif

static void
free_strings(char **v, size_t n)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int
opy_interp_start(const OpyConfig *cfg, char *const *scripts, size_t n)
{
    char **dirs = NULL, **names = NULL, *exe = NULL, *joined = NULL;
    const char *venv = cfg->virtual_env_set ? cfg->virtual_env : getenv("VIRTUAL_ENV");
    size_t i, j, len = 1;
    int rc = -1;

    /* a restart (POST /tools/reset): what the previous start left */
    for (i = 0; i < opy_scripts_count; i++) {
        free(opy_scripts_bases[i]);
        free(opy_scripts_paths[i]);
    }
    free(opy_scripts_bases);
    free(opy_scripts_paths);
    opy_scripts_bases = opy_scripts_paths = NULL;
    opy_scripts_count = 0;
    free(script_names);
    script_names = NULL;
    opy_script_name = "?";

    dirs = calloc(n, sizeof *dirs);
    names = calloc(n, sizeof *names);
    opy_scripts_bases = calloc(n, sizeof *opy_scripts_bases);
    opy_scripts_paths = calloc(n, sizeof *opy_scripts_paths);
    if (dirs == NULL || names == NULL || opy_scripts_bases == NULL || opy_scripts_paths == NULL)
        goto done;
    opy_scripts_count = n;
    for (i = 0; i < n; i++) {
        const char *script = scripts[i];
        const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;

        /* script is absolute (the caller resolved it): dir is never empty */
        dirs[i] = strndup(script, base - script > 1 ? (size_t) (base - script - 1) : 1);
        /* the caller checked the ".py"; a script named orthanc.py is
         * imported as OPY_PRIVATE_SCRIPT_MODULE, so that "import orthanc"
         * (in the script itself too) keeps finding the built-in module */
        names[i] = strcmp(base, "orthanc.py") == 0 ? strdup(OPY_PRIVATE_SCRIPT_MODULE)
                                                   : strndup(base, strlen(base) - 3);
        opy_scripts_bases[i] = strdup(base);
        opy_scripts_paths[i] = strdup(script);
        if (dirs[i] == NULL || names[i] == NULL || opy_scripts_bases[i] == NULL ||
            opy_scripts_paths[i] == NULL)
            goto done;
        len += strlen(base) + 2;
        for (j = 0; j < i; j++) {
            if (strcmp(names[j], names[i]) == 0) {
                opy_log(OPY_LOG_ERROR, "OPY0044 the scripts \"%s\" and \"%s\" would both be imported "
                        "as module \"%s\": each script needs a file name of its own; Orthanc will not "
                        "start", opy_scripts_paths[j], script, names[i]);
                goto done;
            }
        }
    }
    joined = malloc(len);
    if (joined == NULL)
        goto done;
    joined[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0)
            strcat(joined, ", ");
        strcat(joined, opy_scripts_bases[i]);
    }
    opy_script_name = script_names = joined;
    joined = NULL;
    for (i = 0; i < n; i++)
        opy_log(OPY_LOG_WARNING, "OPY0008 Using Python script \"%s\" from directory: %s",
                opy_scripts_bases[i], dirs[i]);

    if (venv != NULL && venv[0] != '\0') {
        exe = check_venv(venv, cfg->virtual_env_set ? "Python.VirtualEnv" : "environment variable VIRTUAL_ENV");
        if (exe == NULL)
            goto done;
    }
    pin_libraries();
    if (!atfork_registered && pthread_atfork(NULL, NULL, after_fork_in_child) == 0)
        atfork_registered = 1;
    if (start_python(cfg, exe != NULL ? exe : OPY_PYTHON_EXECUTABLE) < 0)
        goto done;
    main_tstate = PyThreadState_Get();
    running = 1;
    if (Py_Version >> 16 != PY_VERSION_HEX >> 16)
        opy_log(OPY_LOG_WARNING, "OPY0021 built for Python %d.%d, running with %d.%d",
                PY_MAJOR_VERSION, PY_MINOR_VERSION, (int) (Py_Version >> 24),
                (int) ((Py_Version >> 16) & 0xFF));
    /* thread states of an earlier start are stale from here on (before
     * opy_gil_init lets threads in) */
    atomic_fetch_add(&opy_interps_generation, 1);
    opy_gil_init();
    opy_interps_reset();
    opy_interps[0] = PyInterpreterState_Get();
    opy_interps_n = 1;
    opy_interps_wanted = cfg->interpreters;
    opy_module = PyImport_ImportModule("orthanc");
    if (opy_module == NULL) {
        opy_error_log("OPY0009", "creating the orthanc module");
        goto stop;
    }
    opy_log_install_streams(cfg->log_output);
#if PY_VERSION_HEX >= 0x030E0000
    keep_fork_default();
#endif
    if (setup_sys_path(dirs, n, cfg) < 0) {
        opy_error_log("OPY0009", "setting sys.path");
        goto stop;
    }

    opy_registration_begin(0);
    for (i = 0; i < n; i++) {
        char what[PATH_MAX + 64];

        opy_script_current = opy_scripts_bases[i];
        if (import_script(scripts[i], names[i]) < 0) {
            opy_registration_end();
            snprintf(what, sizeof what, "the import of the script %s (%s)", opy_scripts_bases[i],
                     cfg->development_mode ? "development mode: Orthanc answers with this traceback"
                                           : "Orthanc will not start");
            free(opy_interp_import_error);
            opy_interp_import_error = opy_error_log_text("OPY0007", what);
            opy_script_current = NULL;
            goto stop;
        }
    }
    opy_script_current = NULL;
    opy_cb_changes_watch_stop();
    opy_registration_end();
    if (cfg->development_mode)
        watch_imported(dirs, n, cfg);
#if OPY_HAVE_SUBINTERPRETERS
    for (i = 1; i < (size_t) cfg->interpreters; i++)
        if (start_other(cfg, (int) i, scripts, names, n, dirs) < 0)
            goto stop;
    if (cfg->interpreters > 1)
        opy_log(OPY_LOG_WARNING, "OPY0053 %d Python interpreters run, each with its own GIL "
                "(\"Python.Interpreters\"): REST callbacks run in any of them, the other callbacks in the "
                "main one", cfg->interpreters);
#endif

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
    free(exe);
    free(joined);
    free_strings(names, n);
    free_strings(dirs, n);
    return rc;
}

/* ---- stop ------------------------------------------------------------- */

/* Runs the atexit handlers (multiprocessing pools, ...) in a thread, so
 * that a stuck handler cannot hang Orthanc's stop: True when they ended.
 * When they did not (e.g. a pool whose workers were killed), the child
 * processes of multiprocessing are killed so that none outlives Orthanc. */
static const char run_atexit_source[] =
    "def _opy_atexit(timeout, other):\n"
    "    import atexit, threading\n"
    "    t = threading.Thread(target=atexit._run_exitfuncs, name='orthanc-atexit', daemon=not other)\n"
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
    "def _opy_join(grace, daemons):\n"
    "    import threading, time\n"
    "    deadline = time.monotonic() + grace\n"
    "    main = threading.main_thread()\n"
    "    def script_threads():\n"
    "        return [t for t in threading.enumerate()\n"
    "                if t is not main and (daemons or not t.daemon) and t.is_alive()\n"
    "                and t is not threading.current_thread()]\n"
    "    for t in script_threads():\n"
    "        t.join(max(0.0, deadline - time.monotonic()))\n"
    "    return ', '.join(repr(t.name) for t in script_threads())\n";

/* Defines the function `fname` from `source` and calls it with a float
 * argument. Returns a new reference to its result, or NULL (logged with
 * `id`). With the GIL held. */
static PyObject *
run_stop_helper(const char *source, const char *fname, double arg, int flag, const char *id)
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
        result = PyObject_CallFunction(f, "di", arg, flag);
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
join_script_threads(int daemons)
{
    PyObject *names = run_stop_helper(join_threads_source, "_opy_join",
                                      OPY_STOP_GRACE_MS / 1000.0, daemons, "OPY0014");
    const char *s = names ? PyUnicode_AsUTF8(names) : NULL;
    char *result = s ? strdup(s) : NULL;

    PyErr_Clear();
    Py_XDECREF(names);
    return result;
}

/* 1 when the atexit handlers finished within the grace period (other: in
 * an interpreter other than the main one, which has no daemon threads). */
static int
run_atexit(int other)
{
    PyObject *ok = run_stop_helper(run_atexit_source, "_opy_atexit",
                                   OPY_STOP_GRACE_MS / 1000.0, other, "OPY0024");
    int r = ok != NULL && PyObject_IsTrue(ok) == 1;

    PyErr_Clear();
    Py_XDECREF(ok);
    return r;
}

/* Ends the interpreters other than the main one, last first (no callback
 * runs; no GIL held, on return too). 0, or -1 when one of them keeps a
 * thread of its scripts or an atexit handler running (logged): Python is
 * then left as it is, unfinalized. Py_EndInterpreter wants its own thread
 * state to be the interpreter's last one: those of Orthanc's threads are
 * deleted first, its scripts' threads (daemons too) must have ended. */
static int
stop_others(void)
{
#if OPY_HAVE_SUBINTERPRETERS
    while (opy_interps_n > 1) {
        int i = opy_interps_n - 1;
        char *alive;

        PyEval_RestoreThread(other_ts[i]);
        alive = join_script_threads(1);
        opy_log_flush_streams();
        if (alive != NULL && alive[0] != '\0') {
            opy_log(OPY_LOG_WARNING, "OPY0014 script %s: these threads of Python interpreter %d are still "
                    "running %d ms after Orthanc stopped: %s; Python is left running (not finalized) so "
                    "Orthanc can exit", opy_script_name, i + 1, OPY_STOP_GRACE_MS, alive);
            free(alive);
            PyEval_SaveThread();
            return -1;
        }
        free(alive);
        if (!run_atexit(1)) {
            opy_log(OPY_LOG_WARNING, "OPY0024 script %s: the atexit handlers of Python interpreter %d did "
                    "not finish within %d ms; Python is left running (not finalized) so Orthanc can exit",
                    opy_script_name, i + 1, OPY_STOP_GRACE_MS);
            PyEval_SaveThread();
            return -1;
        }
        opy_cb_rest_drop_interp(i);
        if (opy_interps_delete_tracked(i) < 0) {
            PyEval_SaveThread();
            return -1;          /* logged (OPY0053) */
        }
        opy_state_forget(opy_interps[i]);
        Py_EndInterpreter(other_ts[i]);     /* no thread state is current after it */
        other_ts[i] = NULL;
        opy_interps[i] = NULL;
        opy_interps_n = i;
    }
#endif
    return 0;
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
    opy_cb_audit_log_stop();
    memory_display_stop();
    opy_sdk_close();
    if (stuck) {                    /* OPY0027 logged: Python is left as it is */
        (void) opy_gil_close(0);
        return;
    }
    if (opy_gil_close(5000) < 0) {
        opy_log(OPY_LOG_WARNING, "OPY0022 a Python callback is still running while Orthanc stops");
        if (opy_interps_n > 1) {
            /* its thread state may be one that ending its interpreter frees */
            opy_log(OPY_LOG_WARNING, "OPY0022 Python is left running (not finalized) so Orthanc can exit");
            return;
        }
    }
    if (stop_others() < 0)
        return;

    PyEval_RestoreThread(main_tstate);
    opy_async_stop(OPY_STOP_GRACE_MS);  /* the loop of the async callbacks, if started */
    alive = join_script_threads(0);
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
    if (!run_atexit(0)) {
        opy_log(OPY_LOG_WARNING, "OPY0024 script %s: its atexit handlers (for instance a "
                "multiprocessing pool) did not finish within %d ms; Python is left running "
                "(not finalized) so Orthanc can exit", opy_script_name, OPY_STOP_GRACE_MS);
        PyEval_SaveThread();
        return;
    }
    opy_families_finalize();
    opy_async_finalize();
    Py_CLEAR(opy_module);
    if (Py_FinalizeEx() < 0)
        opy_log(OPY_LOG_WARNING, "OPY0015 Python finalization reported an error (buffered data lost)");
    opy_state_forget(NULL);
    main_tstate = NULL;
}
