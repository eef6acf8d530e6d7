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

    static const char *const cases[][2] = {
        {"{\"PythonScript\": 42}", "\"PythonScript\" must be a string, not a number"},
        {"{\"PythonScript\": [\"a.py\"]}", "\"PythonScript\" must be a string, not an array"},
        {"{\"PythonScript\": {\"a\": 1}}", "\"PythonScript\" must be a string, not an object"},
        {"{\"PythonScript\": true}", "\"PythonScript\" must be a string, not a boolean"},
        {"{\"PythonScript\": null}", "\"PythonScript\" must be a string, not null"},
        {"{\"PythonVerbose\": \"yes\"}", "\"PythonVerbose\" must be true or false, not a string"},
        {"{\"Python\": 1}", "\"Python\" must be an object, not a number"},
        {"{\"Python\": {\"Path\": 3}}", "\"Python.Path\" must be a string, not a number"},
        {"{\"Python\": {\"Verbose\": 1}}", "\"Python.Verbose\" must be true or false, not a number"},
        {"{\"Python\": {\"AllowThreads\": null}}", "\"Python.AllowThreads\" must be true or false"},
        {"{\"Python\": {\"DisplayMemoryUsage\": []}}", "\"Python.DisplayMemoryUsage\" must be"},
        {"{\"Python\": {\"LogOutput\": {}}}", "\"Python.LogOutput\" must be true or false, not an object"},
        {"{\"Python\": {\"Path\": \"p.py\"}, \"PythonScript\": 3}", "\"PythonScript\" must be a string"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake.last_log[0] = '\0';
        ASSERT_EQ_INT(opy_config_parse(cases[i][0], &c), -1);
        ASSERT_TRUE(c.script == NULL);
        ASSERT_CONTAINS(fake.last_log, "OPY0029");
        ASSERT_CONTAINS(fake.last_log, cases[i][1]);
    }
    /* unknown keys of any type are still ignored */
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Other\": 3}, \"PythonOther\": [1], \"Path\": 1}", &c), 0);
    opy_config_free(&c);
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
    /* wrong types refuse the start (config_wrong_types) */
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": \"true\"}}", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "OPY0029");
    ASSERT_CONTAINS(fake.last_log, "Python.LogOutput");
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"LogOutput\": 1, \"Path\": \"p.py\"}}", &c), -1);
    ASSERT_TRUE(c.script == NULL);
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
    /* wrong types: the start is refused (OPY0029) */
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": \"a.py\", \"Path\": \"p.py\"}}", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "OPY0029");
    ASSERT_CONTAINS(fake.last_log, "Python.Scripts");
    ASSERT_CONTAINS(fake.last_log, "a list of strings, not a string");
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"PythonPath\": [\"/x\", 3, {\"a\": [1]}]}}", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "OPY0029");
    ASSERT_CONTAINS(fake.last_log, "Python.PythonPath");
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"VirtualEnv\": 1}}", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "Python.VirtualEnv");
    fake.last_log[0] = '\0';
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"DevelopmentMode\": \"yes\"}}", &c), -1);
    ASSERT_CONTAINS(fake.last_log, "Python.DevelopmentMode");
    /* bad JSON inside a list */
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\" \"b.py\"]}}", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\", ]}}", &c), -1);
    ASSERT_EQ_INT(opy_config_parse("{\"Python\": {\"Scripts\": [\"a.py\"", &c), -1);
    return 0;
}
