/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libFuzzer harness: opy_config_parse() (the reader of Orthanc's JSON
 * configuration) on arbitrary bytes, NUL-terminated as Orthanc hands them.
 * Checks: no crash, no sanitizer report, and a parsed script path is a
 * string no longer than the input. Built with -DOPY_FUZZ=ON (clang),
 * run by scripts/fuzz.sh.
 */
#include "opy_config.h"
#include "fake_context.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fake_reset();       /* the log lines of the reader go to the fake context */
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = malloc(size + 1);
    OpyConfig cfg;

    if (json == NULL)
        return 0;
    memcpy(json, data, size);
    json[size] = '\0';
    if (opy_config_parse(json, &cfg) == 0) {
        if (cfg.script != NULL && strlen(cfg.script) > size)
            abort();
        if ((cfg.verbose | cfg.allow_threads | cfg.display_memory) & ~1)
            abort();
        opy_config_free(&cfg);
    }
    free(json);
    fake.calls = 0;
    return 0;
}
