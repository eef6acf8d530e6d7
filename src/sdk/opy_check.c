/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_check.c - checks of hostile arguments before they reach Orthanc:
 * HTTP header names and values, route regular expressions, image geometry.
 * docs/robustness.md says what each refuses; tests/robustness/ shows it.
 */
#include "opy_check.h"

#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------ HTTP */

/* RFC 7230, 3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static int
is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int
opy_check_http_name(const char *s, size_t len, const char *what)
{
    size_t i;

    if (len == 0) {
        PyErr_Format(PyExc_ValueError, "%s must not be empty", what);
        return -1;
    }
    for (i = 0; i < len; i++)
        if (!is_tchar((unsigned char) s[i])) {
            PyErr_Format(PyExc_ValueError, "%s must be an HTTP token (letters, digits and "
                         "!#$%%&'*+-.^_`|~): byte 0x%02x at offset %zu", what,
                         (unsigned) (unsigned char) s[i], i);
            return -1;
        }
    return 0;
}

int
opy_check_http_value(const char *s, size_t len, const char *what)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
            PyErr_Format(PyExc_ValueError, "%s must not contain CR, LF or NUL (found %s at "
                         "offset %zu): it would end the HTTP header line", what,
                         s[i] == '\r' ? "CR" : s[i] == '\n' ? "LF" : "NUL", i);
            return -1;
        }
    return 0;
}

/* ------------------------------------------------------------ route regex */

static int
regex_refused(PyObject *pattern, size_t offset, const char *why)
{
    PyErr_Format(PyExc_ValueError, "pathRegularExpression %R at offset %zu: %s (Orthanc matches "
                 "routes with boost::regex, Perl syntax)", pattern, offset, why);
    return -1;
}

/* An escape at p[i] of Python's that boost refuses or reads otherwise. */
static int
escape_refused(PyObject *pattern, const char *p, size_t i)
{
    if (p[i + 1] == 'N')
        return regex_refused(pattern, i, "\\N{name} is Python's; boost refuses it "
                             "(write the character itself)");
    if (p[i + 1] == 'u' || p[i + 1] == 'U')
        return regex_refused(pattern, i, "\\uXXXX and \\UXXXXXXXX are Python's escapes; "
                             "boost reads them otherwise (write the character itself, or "
                             "\\xHH for a byte)");
    return 0;
}

/* What Python's re accepts but boost::regex (Orthanc 1.10.1 to 1.13)
 * refuses with an exception that kills Orthanc, or reads otherwise. Found
 * by registering each candidate in a real Orthanc (docs/robustness.md). */
static int
boost_differs(PyObject *pattern, const char *p)
{
    size_t i = 0, n = strlen(p);

    while (i < n) {
        char c = p[i];

        if (c == '\\') {
            if (escape_refused(pattern, p, i) < 0)
                return -1;
            i += p[i + 1] != '\0' ? 2 : 1;
            continue;
        }
        if (c == '[') {                     /* a character class */
            size_t j = i + 1;

            if (p[j] == '^')
                j++;
            if (p[j] == ']')                /* a leading ] is a member */
                j++;
            while (j < n && p[j] != ']') {
                if (p[j] == '\\') {
                    if (escape_refused(pattern, p, j) < 0)
                        return -1;
                    j += p[j + 1] != '\0' ? 2 : 1;
                    continue;
                }
                if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.'))
                    return regex_refused(pattern, j, "boost reads [:class:], [=x=] and [.x.] inside "
                                         "a set as POSIX classes, Python as plain characters "
                                         "(escape the [ as \\[)");
                j++;
            }
            i = j + 1;
            continue;
        }
        if (c == '(' && p[i + 1] == '?') {
            size_t j = i + 2;
            int python_flag = 0;

            if (p[j] == 'P')
                return regex_refused(pattern, i, "(?P...) (Python's named groups and references) "
                                     "is refused by boost: use a plain group (...), the groups "
                                     "reach the callback by position");
            for (; (p[j] >= 'a' && p[j] <= 'z') || (p[j] >= 'A' && p[j] <= 'Z') || p[j] == '-'; j++)
                if (p[j] == 'a' || p[j] == 'u' || p[j] == 'L')
                    python_flag = 1;
            if (python_flag && (p[j] == ')' || p[j] == ':'))
                return regex_refused(pattern, i, "the flags a, u and L are Python's; boost refuses "
                                     "them (it knows i, m, s, x)");
        }
        if (c == '{' && p[i + 1] == ',') {
            size_t j = i + 2;

            while (p[j] >= '0' && p[j] <= '9')
                j++;
            if (p[j] == '}')
                return regex_refused(pattern, i, "{,n} repeats 0 to n times in Python but is "
                                     "literal text for boost: write {0,n} (or \\{ for a brace)");
        }
        i++;
    }
    return 0;
}

int
opy_check_route_regex(PyObject *pattern, const char *utf8)
{
    PyObject *re = NULL, *compiled = NULL;
    int rc = -1;

    re = PyImport_ImportModule("re");
    if (re == NULL)
        goto done;
    compiled = PyObject_CallMethod(re, "compile", "O", pattern);
    if (compiled == NULL) {
        PyObject *cause = opy_err_take(), *error, *value;

        if (cause == NULL)
            goto done;
        error = PyObject_GetAttrString(re, "error");
        if (error == NULL || !PyErr_GivenExceptionMatches(cause, error)) {
            Py_XDECREF(error);
            opy_err_restore(cause);         /* not a re.error: as it is */
            goto done;
        }
        Py_DECREF(error);
        /* ValueError, the re.error as its __cause__ */
        PyErr_Format(PyExc_ValueError, "pathRegularExpression %R is not a valid regular "
                     "expression: %S", pattern, cause);
        value = opy_err_take();
        if (value == NULL) {
            Py_DECREF(cause);
            goto done;
        }
        PyException_SetContext(value, Py_NewRef(cause));
        PyException_SetCause(value, cause);                 /* steals cause */
        opy_err_restore(value);                             /* steals value */
        goto done;
    }
    rc = boost_differs(pattern, utf8);
done:
    Py_XDECREF(compiled);
    Py_XDECREF(re);
    return rc;
}

/* ------------------------------------------------------------ images */

/* Bytes per pixel of an OrthancPluginPixelFormat value (1 for the others:
 * Orthanc refuses them itself). */
static unsigned
bytes_per_pixel(long long format)
{
    switch (format) {
    case 2: case 3: return 2;               /* Grayscale16, SignedGrayscale16 */
    case 4: return 3;                       /* RGB24 */
    case 5: case 8: case 9: case 10: return 4;   /* RGBA32, Grayscale32, Float32, BGRA32 */
    case 7: return 6;                       /* RGB48 */
    case 11: return 8;                      /* Grayscale64 */
    default: return 1;
    }
}

int
opy_image_check(long long format, long long width, long long height, long long pitch,
                long long size)
{
    unsigned long long row = (unsigned long long) width * bytes_per_pixel(format);
    unsigned long long lines = (unsigned long long) height;

    if (width < 0 || height < 0 || row > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "image width %lld x %u bytes per pixel does not fit in "
                     "32 bits", width, bytes_per_pixel(format));
        return -1;
    }
    if (pitch < 0) {                        /* no pitch given: Orthanc's is the row */
        if (row * lines > UINT32_MAX) {
            PyErr_Format(PyExc_ValueError, "image of %lld x %lld pixels of %u bytes: its size "
                         "does not fit in 32 bits", width, height, bytes_per_pixel(format));
            return -1;
        }
        return 0;
    }
    if ((unsigned long long) pitch < row) {
        PyErr_Format(PyExc_ValueError, "pitch %lld is smaller than a row of the image (%lld "
                     "pixels x %u bytes = %llu)", pitch, width, bytes_per_pixel(format), row);
        return -1;
    }
    if ((unsigned long long) pitch * lines > UINT32_MAX) {
        PyErr_Format(PyExc_ValueError, "pitch %lld x height %lld does not fit in 32 bits",
                     pitch, height);
        return -1;
    }
    if (size >= 0 && (unsigned long long) size < (unsigned long long) pitch * lines) {
        PyErr_Format(PyExc_ValueError, "buffer is too short: %lld bytes for pitch %lld x height "
                     "%lld", size, pitch, height);
        return -1;
    }
    return 0;
}
