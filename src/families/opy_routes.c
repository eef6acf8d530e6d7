/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_routes.c - route patterns claimed by each script (opy_routes.h).
 */
#include "opy_python.h"
#include "opy_routes.h"
#include "opy_error.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *regex;
    const char *script;     /* opy_script_current: lives as long as the plugin */
    const char *family;     /* a string constant */
} OpyClaim;

static OpyClaim *claims;
static size_t n_claims, cap_claims;

int
opy_routes_claim(const char *regex, const char *family)
{
    size_t i;

    if (opy_script_current == NULL)
        return 0;
    for (i = 0; i < n_claims; i++) {
        if (claims[i].script != opy_script_current && strcmp(claims[i].regex, regex) == 0) {
            PyErr_Format(PyExc_RuntimeError, "OPY0045 the REST route %s is registered by two scripts: "
                         "%s (%s) and %s (%s)", regex, claims[i].script, claims[i].family,
                         opy_script_current, family);
            return -1;
        }
    }
    if (n_claims == cap_claims) {
        size_t cap = cap_claims ? 2 * cap_claims : 16;
        OpyClaim *c = realloc(claims, cap * sizeof *c);

        if (c == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        claims = c;
        cap_claims = cap;
    }
    if ((claims[n_claims].regex = strdup(regex)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    claims[n_claims].script = opy_script_current;
    claims[n_claims].family = family;
    n_claims++;
    return 0;
}

void
opy_routes_clear(void)
{
    size_t i;

    for (i = 0; i < n_claims; i++)
        free(claims[i].regex);
    free(claims);
    claims = NULL;
    n_claims = cap_claims = 0;
}
