/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "opy_config.h"
#include "fake_context.h"
#include "runner.h"

#include <stdlib.h>
#include <string.h>

TEST_IMPL(config_both_spellings)
{
    OpyConfig c;

    ASSERT_EQ_INT(opy_config_parse("{\"PythonScript\": \"a.py\", \"PythonVerbose\": true}", &c), 0);
    ASSERT_EQ_STR(c.script, "a.py");
    ASSERT_EQ_INT(c.verbose, 1);
    ASSERT_EQ_INT(c.allow_threads, 1);
    ASSERT_EQ_INT(c.display_memory, 0);
    ASSERT_EQ_INT(c.log_output, 0);
    opy_config_free(&c);
    ASSERT_EQ_INT(opy_config_parse("{}", &c), 0);
    ASSERT_TRUE(c.script == NULL);
    return 0;
}

TEST_IMPL(config_section_wins)
{
    OpyConfig c;
    const char *json =
        "{\n  \"PythonScript\" : \"a.py\",\n  \"Python\" : { \"Path\" : \"b.py\", \"Verbose\" : true,\n"
        "  \"AllowThreads\" : false, \"DisplayMemoryUsage\" : true }, \"PythonVerbose\" : false }";

    ASSERT_EQ_INT(opy_config_parse(json, &c), 0);
    ASSERT_EQ_STR(c.script, "b.py");
    ASSERT_EQ_INT(c.verbose, 0);        /* the later key wins, as in JSON readers */
    ASSERT_EQ_INT(c.allow_threads, 0);
    ASSERT_EQ_INT(c.display_memory, 1);
    opy_config_free(&c);
    return 0;
}

TEST_IMPL(config_escapes_and_skipping)
{
    OpyConfig c;
    const char *json =
        "{\"A\": [1, 2.5e3, {\"b\": \"}\\\"]\"}, null, false], \"Path\": \"top-level, ignored\","
        " \"Python\": {\"Other\": {\"Path\": \"nested, ignored\"}},"
        " \"PythonScript\": \"d\\u00e9j\\u00e0\\/x\\ud83d\\ude00.py\"}";

    ASSERT_EQ_INT(opy_config_parse(json, &c), 0);
    ASSERT_EQ_STR(c.script, "d\xc3\xa9j\xc3\xa0/x\xf0\x9f\x98\x80.py");
    opy_config_free(&c);
    return 0;
}

TEST_IMPL(config_bad_json)
{
    OpyConfig c;

    ASSERT_EQ_INT(opy_config_parse("{\"PythonScript\": \"a.py\"", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "OPY0020");
    ASSERT_EQ_INT(opy_config_parse("{\"PythonScript\": \"a.py\" \"x\": 1}", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("[1]", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("", &c), -1);
    ASSERT_TRUE(c.script == NULL);
    return 0;
}

TEST_IMPL(config_wrong_types)
{
    OpyConfig c;

    ASSERT_EQ_INT(opy_config_parse("{\"PythonVerbose\": \"yes\", \"PythonScript\": 3}", &c), 0);
    ASSERT_EQ_INT(c.verbose, 0);
    ASSERT_TRUE(c.script == NULL);
    ASSERT_CONTAINS(fake.last_log, "OPY0019");
    ASSERT_CONTAINS(fake.last_log, "PythonScript");
    return 0;
}

TEST_IMPL(config_deep_nesting)
{
    /* 100000 nested arrays: refused (bounded depth), no stack overflow */
    size_t n = 100000, i;
    char *json = malloc(n + 64);
    OpyConfig c;

    ASSERT_TRUE(json != NULL);
    memcpy(json, "{\"a\": ", 6);
    for (i = 0; i < n; i++)
        json[6 + i] = '[';
    json[6 + n] = '\0';
    ASSERT_EQ_INT(opy_config_parse(json, &c), -1);
    free(json);
    ASSERT_EQ_INT(opy_config_parse("{\"a\": [[[{\"b\": [1]}]]], \"PythonScript\": \"s.py\"}", &c), 0);
    ASSERT_EQ_STR(c.script, "s.py");
    opy_config_free(&c);
    return 0;
}

TEST_IMPL(config_log_output)
{
    OpyConfig c;

    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": true}}", &c), 0);
    ASSERT_EQ_INT(c.log_output, 1);
    opy_config_free(&c);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": false}}", &c), 0);
    ASSERT_EQ_INT(c.log_output, 0);
    opy_config_free(&c);
    /* only in the "Python" section */
    ASSERT_EQ_INT(opy_config_parse("{\"LogOutput\": true}", &c), 0);
    ASSERT_EQ_INT(c.log_output, 0);
    opy_config_free(&c);
    /* wrong types: logged, ignored (the default stays) */
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": \"true\"}}", &c), 0);
    ASSERT_EQ_INT(c.log_output, 0);
    ASSERT_CONTAINS(fake.last_log, "OPY0019");
    ASSERT_CONTAINS(fake.last_log, "Python.LogOutput");
    opy_config_free(&c);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": 1, \"Path\": \"p.py\"}}", &c), 0);
    ASSERT_EQ_INT(c.log_output, 0);
    ASSERT_EQ_STR(c.script, "p.py");
    opy_config_free(&c);
    return 0;
}

TEST_IMPL(config_lists_venv_devmode)
{
    OpyConfig c;

    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\", \"b\\u00e9.py\"], "
                                   "\"PythonPath\": [], \"VirtualEnv\": \"/v\", "
                                   "\"DevelopmentMode\": true}}", &c), 0);
    ASSERT_EQ_INT((int) c.n_scripts, 2);
    ASSERT_EQ_STR(c.scripts[0], "a.py");
    ASSERT_EQ_STR(c.scripts[1], "b\xc3\xa9.py");
    ASSERT_EQ_INT((int) c.n_python_path, 0);
    ASSERT_EQ_STR(c.virtual_env, "/v");
    ASSERT_EQ_INT(c.virtual_env_set, 1);
    ASSERT_EQ_INT(c.development_mode, 1);
    opy_config_free(&c);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"PythonPath\": [\"/x\", \"/y\"]}}", &c), 0);
    ASSERT_EQ_INT((int) c.n_python_path, 2);
    ASSERT_EQ_STR(c.python_path[1], "/y");
    ASSERT_EQ_INT(c.virtual_env_set, 0);
    ASSERT_EQ_INT(c.development_mode, 0);
    opy_config_free(&c);
    /* wrong types: logged, ignored */
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": \"a.py\", \"Path\": \"p.py\"}}", &c), 0);
    ASSERT_EQ_INT((int) c.n_scripts, 0);
    ASSERT_CONTAINS(fake.last_log, "Python.Scripts");
    ASSERT_EQ_STR(c.script, "p.py");
    opy_config_free(&c);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"PythonPath\": [\"/x\", 3, {\"a\": [1]}]}}", &c), 0);
    ASSERT_EQ_INT((int) c.n_python_path, 0);
    ASSERT_CONTAINS(fake.last_log, "OPY0019");
    opy_config_free(&c);
    /* bad JSON inside a list */
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\" \"b.py\"]}}", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\", ]}}", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\"", &c), -1);
    return 0;
}
