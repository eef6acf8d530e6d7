/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * runner.h - a tiny test runner: TEST_IMPL(name) defines a test, listed in
 * test-list.h; ASSERT_* print the file, line and the values compared.
 */
#ifndef OPY_TEST_RUNNER_H
#define OPY_TEST_RUNNER_H

#include <stdio.h>
#include <string.h>

#define TEST_IMPL(name) int run_test_##name(void)

extern int opy_test_failed_asserts;

#define ASSERT_TRUE(expr) do {                                                   \
        if (!(expr)) {                                                           \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

#define ASSERT_EQ_INT(a, b) do {                                                 \
        long long a_ = (long long) (a), b_ = (long long) (b);                    \
        if (a_ != b_) {                                                          \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",            \
                    __FILE__, __LINE__, #a, #b, a_, b_);                         \
            return 1;                                                            \
        }                                                                        \
    } while (0)

#define ASSERT_EQ_STR(a, b) do {                                                 \
        const char *a_ = (a), *b_ = (b);                                         \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                   \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",        \
                    __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

#define ASSERT_CONTAINS(haystack, needle) do {                                   \
        const char *h_ = (haystack), *n_ = (needle);                             \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                              \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",           \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);                 \
            return 1;                                                            \
        }                                                                        \
    } while (0)

#endif
