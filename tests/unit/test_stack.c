/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of opy_stack.c: a callback on a thread with a small stack runs on
 * the thread's Python stack, deep enough for what would overflow its own,
 * through each of the two switches (the plain call on x86-64, swapcontext).
 */
#include "opy_python.h"
#include "opy_stack.h"
#include "runner.h"

#include <pthread.h>
#include <string.h>

#define SMALL_STACK (256u * 1024u)
#define DEEP_FRAMES 512                 /* about 2 MB of frames */

typedef struct {
    int switched;       /* opy_stack_switched() in the callback */
    int depth;          /* frames the recursion reached */
    int calls;
    double sum;         /* floating point kept across the switch */
} Probe;

static int __attribute__((noinline))
deep(int n)
{
    volatile char pad[4000];

    memset((char *) pad, n & 0x7f, sizeof pad);
    return n == 0 ? 0 : 1 + deep(n - 1) + (pad[n % sizeof pad] == 0x7f ? 0 : 0);
}

static void
callback(void *p)
{
    Probe *probe = p;

    probe->switched = opy_stack_switched();
    probe->depth = deep(DEEP_FRAMES);
    probe->calls++;
    probe->sum += 0.5;
}

static void *
small_thread(void *p)
{
    Probe *probe = p;
    double kept = 1.25;
    int i;

    if (!opy_stack_should_switch()) {
        probe->switched = -1;       /* this Python cannot be told about the stack */
        return NULL;
    }
    for (i = 0; i < 3; i++)          /* the stack is reused by later callbacks */
        opy_stack_run(callback, probe);
    probe->sum += kept;
    return NULL;
}

static int
run_on_small_thread(int ucontext, Probe *probe)
{
    pthread_attr_t attr;
    pthread_t t;

    memset(probe, 0, sizeof *probe);
    opy_stack_ucontext = ucontext;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, SMALL_STACK) != 0 ||
        pthread_create(&t, &attr, small_thread, probe) != 0)
        return -1;
    pthread_attr_destroy(&attr);
    pthread_join(t, NULL);
    opy_stack_ucontext = 0;
    return 0;
}

TEST_IMPL(stack_switch_by_call_and_by_ucontext)
{
    Probe probe;
    int ucontext;

    for (ucontext = 0; ucontext <= 1; ucontext++) {
        ASSERT_EQ_INT(run_on_small_thread(ucontext, &probe), 0);
        if (probe.switched == -1)
            continue;
        ASSERT_EQ_INT(probe.switched, 1);
        ASSERT_EQ_INT(probe.depth, DEEP_FRAMES);
        ASSERT_EQ_INT(probe.calls, 3);
        ASSERT_TRUE(probe.sum == 2.75);
    }
    return 0;
}
