/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_config.c - reading the few options we need from Orthanc's JSON.
 *
 * A small strict JSON scanner: it walks the top-level object and the
 * "Python" object, decodes the strings it needs (escapes and \u included)
 * and skips every other value.
 */
#include "opy_config.h"
#include "opy_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p;
    int depth;          /* nesting of the skipped containers */
} Scan;

/* Deeper containers are refused (the recursion would exhaust the stack). */
#define MAX_DEPTH 256

enum { V_ERROR = -1, V_STRING, V_TRUE, V_FALSE, V_OTHER, V_OBJECT };

static void
ws(Scan *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
        s->p++;
}

static int
hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned) (c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned) (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned) (c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char) cp; return 1; }
    if (cp < 0x800) { o[0] = (char) (0xC0 | (cp >> 6)); o[1] = (char) (0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char) (0xE0 | (cp >> 12)); o[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char) (0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char) (0xF0 | (cp >> 18)); o[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char) (0x80 | ((cp >> 6) & 0x3F)); o[3] = (char) (0x80 | (cp & 0x3F)); return 4;
}

/* At a '"': reads the string; *out gets a malloc'ed copy when out != NULL.
 * The decoded text is never longer than the source. */
static int
string(Scan *s, char **out)
{
    const char *start = ++s->p, *q;
    char *buf = NULL, *o;

    for (q = start; *q != '"'; q++) {
        if (*q == '\0')
            return -1;
        if (*q == '\\' && q[1] != '\0')
            q++;
    }
    if (out != NULL && (buf = malloc((size_t) (q - start) + 1)) == NULL)
        return -1;
    o = buf;
    for (s->p = start; *s->p != '"'; s->p++) {
        char c = *s->p;
        unsigned cp;

        if (c == '\\') {
            c = *++s->p;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u':
                if (hex4(s->p + 1, &cp) < 0)
                    goto error;
                s->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && s->p[1] == '\\' && s->p[2] == 'u') {
                    unsigned lo;

                    if (hex4(s->p + 3, &lo) < 0)
                        goto error;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s->p += 6;
                }
                if (o != NULL)
                    o += put_utf8(o, cp);
                continue;
            default: break;     /* '"', '\\', '/' */
            }
        }
        if (o != NULL)
            *o++ = c;
    }
    s->p++;
    if (out != NULL) {
        *o = '\0';
        *out = buf;
    }
    return 0;
error:
    free(buf);
    return -1;
}

static int skip_value(Scan *s);

static int
skip_container(Scan *s, char close, int keyed)
{
    s->p++;
    ws(s);
    if (*s->p == close) {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        if (keyed) {
            if (*s->p != '"' || string(s, NULL) < 0)
                return -1;
            ws(s);
            if (*s->p++ != ':')
                return -1;
        }
        if (skip_value(s) < 0)
            return -1;
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == close) {
            s->p++;
            return 0;
        }
        return -1;
    }
}

static int
skip_value(Scan *s)
{
    ws(s);
    switch (*s->p) {
    case '"': return string(s, NULL);
    case '{':
    case '[': {
        int r;

        if (s->depth >= MAX_DEPTH)
            return -1;
        s->depth++;
        r = skip_container(s, *s->p == '{' ? '}' : ']', *s->p == '{');
        s->depth--;
        return r;
    }
    default:
        if (*s->p == '\0')
            return -1;
        while (*s->p && !strchr(",}] \t\r\n", *s->p))
            s->p++;
        return 0;
    }
}

/* Reads a value we are interested in; *found names its JSON type. */
static int
value(Scan *s, char **str, const char **found)
{
    ws(s);
    switch (*s->p) {
    case '"': *found = "a string"; break;
    case '{': *found = "an object"; break;
    case '[': *found = "an array"; break;
    case 't': case 'f': *found = "a boolean"; break;
    case 'n': *found = "null"; break;
    default: *found = "a number"; break;
    }
    if (*s->p == '"')
        return string(s, str) < 0 ? V_ERROR : V_STRING;
    if (strncmp(s->p, "true", 4) == 0) { s->p += 4; return V_TRUE; }
    if (strncmp(s->p, "false", 5) == 0) { s->p += 5; return V_FALSE; }
    if (*s->p == '{')
        return V_OBJECT;
    return skip_value(s) < 0 ? V_ERROR : V_OTHER;
}

/* A known option of the wrong JSON type refuses the start (OPY0029): a
 * "PythonScript": 42 used to start Orthanc without the script, silently. */
#define WRONG_TYPE (-2)

static int
wrong_type(const char *name, const char *expected, const char *found)
{
    opy_log(OPY_LOG_ERROR, "OPY0029 configuration option \"%s\" must be %s, not %s: Orthanc "
            "will not start", name, expected, found);
    return WRONG_TYPE;
}

/* A whole number from 1 to OPY_CONFIG_INTERPRETERS_MAX, the JSON text
 * [start, end) of a value of that kind. */
static int
set_count(int kind, const char *start, const char *end, const char *name, const char *found, int *target)
{
    char *stop = NULL;
    long v = kind == V_OTHER ? strtol(start, &stop, 10) : 0;
    char expected[64];

    snprintf(expected, sizeof expected, "a whole number from 1 to %d", OPY_CONFIG_INTERPRETERS_MAX);
    if (kind != V_OTHER || stop != end || start == end)
        return wrong_type(name, expected, found);
    if (v < 1 || v > OPY_CONFIG_INTERPRETERS_MAX) {
        opy_log(OPY_LOG_ERROR, "OPY0029 configuration option \"%s\" must be %s, not %ld: Orthanc "
                "will not start", name, expected, v);
        return WRONG_TYPE;
    }
    *target = (int) v;
    return 0;
}

static int
set_bool(int kind, const char *name, const char *found, int *target)
{
    if (kind != V_TRUE && kind != V_FALSE)
        return wrong_type(name, "true or false", found);
    *target = kind == V_TRUE;
    return 0;
}

static int
set_string(int kind, char *str, const char *name, const char *found, char **target)
{
    if (kind != V_STRING)
        return wrong_type(name, "a string", found);
    free(*target);
    *target = str;
    return 0;
}

static void
free_list(char **list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* At the value of a key whose value must be a list of strings: reads it
 * into *list / *n (replacing what was there). Another value refuses the
 * start (WRONG_TYPE, OPY0029); -1 on bad JSON. */
static int
set_list(Scan *s, const char *name, char ***list, size_t *n)
{
    char **items = NULL;
    size_t count = 0;
    int ok = 1;

    ws(s);
    if (*s->p != '[') {
        char *ignored = NULL;
        const char *found = NULL;

        /* the start is refused: the rest of the text is not read */
        (void) value(s, &ignored, &found);
        free(ignored);
        return wrong_type(name, "a list of strings", found);
    }
    s->p++;
    ws(s);
    if (*s->p == ']') {
        s->p++;
        goto store;
    }
    for (;;) {
        ws(s);
        if (*s->p == '"') {
            char *str = NULL, **grown;

            if (string(s, &str) < 0)
                goto error;
            grown = realloc(items, (count + 1) * sizeof *items);
            if (grown == NULL) {
                free(str);
                goto error;
            }
            items = grown;
            items[count++] = str;
        }
        else {
            if (*s->p == ']' || *s->p == ',' || skip_value(s) < 0)
                goto error;
            ok = 0;
        }
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            break;
        }
        goto error;
    }
    if (!ok) {
        free_list(items, count);
        return wrong_type(name, "a list of strings", "a list with an item that is not a string");
    }
store:
    free_list(*list, *n);
    *list = items;
    *n = count;
    return 0;
error:
    free_list(items, count);
    return -1;
}

/* Walks the object at s->p; section is 1 for the "Python" object. */
static int
object(Scan *s, OpyConfig *cfg, int section, char **top_script)
{
    ws(s);
    if (*s->p != '{')
        return -1;
    s->p++;
    ws(s);
    if (*s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL, *str = NULL;
        const char *found = NULL, *start;
        int kind, rc = 0;

        ws(s);
        if (*s->p != '"' || string(s, &key) < 0)
            return -1;
        ws(s);
        if (*s->p++ != ':') {
            free(key);
            return -1;
        }
        if (section && (strcmp(key, "PythonPath") == 0 || strcmp(key, "Scripts") == 0)) {
            rc = strcmp(key, "Scripts") == 0
                ? set_list(s, "Python.Scripts", &cfg->scripts, &cfg->n_scripts)
                : set_list(s, "Python.PythonPath", &cfg->python_path, &cfg->n_python_path);
            free(key);
            if (rc < 0)
                return rc;
            goto next;
        }
        ws(s);
        start = s->p;
        kind = value(s, &str, &found);
        if (kind == V_ERROR) {
            free(key);
            return -1;
        }
        if (!section && strcmp(key, "Python") == 0)
            rc = kind == V_OBJECT ? object(s, cfg, 1, top_script)
                                  : wrong_type("Python", "an object", found);
        else if (!section && strcmp(key, "PythonScript") == 0) {
            rc = set_string(kind, str, "PythonScript", found, top_script);
            if (rc == 0)
                str = NULL;
        }
        else if (!section && strcmp(key, "PythonVerbose") == 0)
            rc = set_bool(kind, "PythonVerbose", found, &cfg->verbose);
        else if (section && strcmp(key, "Path") == 0) {
            rc = set_string(kind, str, "Python.Path", found, &cfg->script);
            if (rc == 0)
                str = NULL;
        }
        else if (section && strcmp(key, "Verbose") == 0)
            rc = set_bool(kind, "Python.Verbose", found, &cfg->verbose);
        else if (section && strcmp(key, "AllowThreads") == 0)
            rc = set_bool(kind, "Python.AllowThreads", found, &cfg->allow_threads);
        else if (section && strcmp(key, "DisplayMemoryUsage") == 0)
            rc = set_bool(kind, "Python.DisplayMemoryUsage", found, &cfg->display_memory);
        else if (section && strcmp(key, "LogOutput") == 0)
            rc = set_bool(kind, "Python.LogOutput", found, &cfg->log_output);
        else if (section && strcmp(key, "VirtualEnv") == 0) {
            rc = set_string(kind, str, "Python.VirtualEnv", found, &cfg->virtual_env);
            if (rc == 0) {
                str = NULL;
                cfg->virtual_env_set = 1;
            }
        }
        else if (section && strcmp(key, "DevelopmentMode") == 0)
            rc = set_bool(kind, "Python.DevelopmentMode", found, &cfg->development_mode);
        else if (section && strcmp(key, "Interpreters") == 0)
            rc = set_count(kind, start, s->p, "Python.Interpreters", found, &cfg->interpreters);
        else if (kind == V_OBJECT)
            rc = skip_value(s);
        free(str);
        free(key);
        if (rc < 0)
            return rc;
    next:
        ws(s);
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            return 0;
        }
        return -1;
    }
}

int
opy_config_parse(const char *json, OpyConfig *cfg)
{
    Scan s = { json, 0 };
    char *top_script = NULL;
    int rc;

    cfg->script = NULL;
    cfg->verbose = 0;
    cfg->allow_threads = 1;
    cfg->display_memory = 0;
    cfg->log_output = 0;
    cfg->virtual_env = NULL;
    cfg->virtual_env_set = 0;
    cfg->python_path = NULL;
    cfg->n_python_path = 0;
    cfg->scripts = NULL;
    cfg->n_scripts = 0;
    cfg->development_mode = 0;
    cfg->interpreters = 1;
    rc = object(&s, cfg, 0, &top_script);
    if (rc < 0) {
        if (rc != WRONG_TYPE)
            opy_log(OPY_LOG_ERROR, "OPY0020 cannot read the configuration of Orthanc (bad JSON near "
                "offset %ld)", (long) (s.p - json));
        free(top_script);
        opy_config_free(cfg);       /* what was read before the error */
        return -1;
    }
    if (cfg->script == NULL)
        cfg->script = top_script;
    else
        free(top_script);
    return 0;
}

void
opy_config_free(OpyConfig *cfg)
{
    free(cfg->script);
    cfg->script = NULL;
    free(cfg->virtual_env);
    cfg->virtual_env = NULL;
    free_list(cfg->python_path, cfg->n_python_path);
    cfg->python_path = NULL;
    cfg->n_python_path = 0;
    free_list(cfg->scripts, cfg->n_scripts);
    cfg->scripts = NULL;
    cfg->n_scripts = 0;
}
