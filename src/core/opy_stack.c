/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * opy_stack.c - Python callbacks on a stack big enough for Python
 * (see opy_stack.h for why).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "opy_stack.h"
#include "opy_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define OPY_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OPY_ASAN_FIBERS 1
#endif
#endif
#ifdef OPY_ASAN_FIBERS
#include <sanitizer/common_interface_defs.h>
#endif

typedef struct {
    char *map;                  /* guard page + stack */
    size_t map_size;
    char *base;                 /* lowest usable address */
    size_t size;
    int depth;                  /* > 0 while this thread runs on it */
    PyThreadState *protected;   /* told Python about it (3.14) */
    ucontext_t caller, callee;
    int ready;                  /* callee made: it loops, one callback per switch */
    void (*fn)(void *);
    void *arg;
#ifdef OPY_ASAN_FIBERS
    const void *from_bottom;
    size_t from_size;
    void *callee_fake;
#endif
} OpyStack;

__attribute__((tls_model("initial-exec"))) _Thread_local int opy_stack_state;
static __attribute__((tls_model("initial-exec"))) _Thread_local OpyStack *stack;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t stack_key;
static int stack_key_ok;
static atomic_int map_failure_logged;

static void
stack_free(void *p)
{
    OpyStack *s = p;

    munmap(s->map, s->map_size);
    free(s);
}

static void
make_key(void)
{
    stack_key_ok = pthread_key_create(&stack_key, stack_free) == 0;
}

/* This thread's stack size as the thread library knows it, 0 if unknown. */
static size_t
own_stack_size(void)
{
    pthread_attr_t attr;
    size_t size = 0;

    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return 0;
    if (pthread_attr_getstacksize(&attr, &size) != 0)
        size = 0;
    pthread_attr_destroy(&attr);
    return size;
}

static OpyStack *
stack_new(void)
{
    size_t page = (size_t) sysconf(_SC_PAGESIZE);
    OpyStack *s;

    pthread_once(&key_once, make_key);
    if (!stack_key_ok || (s = calloc(1, sizeof *s)) == NULL)
        return NULL;
    s->map_size = OPY_STACK_SIZE + page;
    s->map = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (s->map == MAP_FAILED) {
        free(s);
        return NULL;
    }
    /* the lowest page traps an overflow instead of writing past the map */
    (void) mprotect(s->map, page, PROT_NONE);
    s->base = s->map + page;
    s->size = OPY_STACK_SIZE;
    if (pthread_setspecific(stack_key, s) != 0) {
        stack_free(s);
        return NULL;
    }
    return s;
}

int
opy_stack_classify(void)
{
    size_t size = own_stack_size();

    if (size == 0 || size >= OPY_STACK_NEEDED) {
        opy_stack_state = 2;
        return 0;
    }
#if PY_VERSION_HEX >= 0x030E0000 && !defined(OPY_HAVE_STACK_PROTECTION)
    /* A Python 3.14 that cannot be told about another stack would take the
     * switched one for an overflow. */
    opy_stack_state = 2;
    return 0;
#else
    stack = stack_new();
    if (stack == NULL) {
        if (!atomic_exchange(&map_failure_logged, 1))
            opy_log(OPY_LOG_WARNING, "OPY0035 cannot map a %u MB stack for Python on a thread "
                    "of %zu KB: Python callbacks run on the thread's own stack",
                    OPY_STACK_SIZE >> 20, size >> 10);
        opy_stack_state = 2;
        return 0;
    }
    opy_stack_state = 1;
    return 1;
#endif
}

/* On x86-64 a callback runs on its stack by a plain call with the stack
 * pointer moved (call_on): no signal mask to save and restore, which
 * swapcontext() does with two system calls per switch, about 2 us per REST
 * request measured with perf. Elsewhere, or when opy_stack_ucontext is set
 * (the unit tests run both), through swapcontext(). */
int opy_stack_ucontext;

#if defined(__x86_64__)
#define OPY_STACK_CALL 1

/* On the thread's Python stack: runs the callback. */
static void
on_stack(void *p)
{
    OpyStack *s = p;

#ifdef OPY_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(s->callee_fake, &s->from_bottom, &s->from_size);
#endif
    s->fn(s->arg);
#ifdef OPY_ASAN_FIBERS
    __sanitizer_start_switch_fiber(&s->callee_fake, s->from_bottom, s->from_size);
#endif
}

/* Calls fn(arg) with the stack pointer at `top` (16-byte aligned), and
 * back. rbx (callee-saved) keeps the caller's stack pointer; the registers
 * that the callee may change are declared clobbered. */
static __attribute__((noinline)) void
call_on(void (*fn)(void *), void *arg, char *top)
{
    __asm__ volatile("movq %%rsp, %%rbx\n\t"
                     "movq %[top], %%rsp\n\t"
                     "callq *%[fn]\n\t"
                     "movq %%rbx, %%rsp"
                     : "+D"(arg), [fn] "+r"(fn), [top] "+r"(top)
                     :
                     : "rbx", "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc",
                       "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
                       "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}
#endif

/* The context of the thread's Python stack: made once, on the first
 * callback, it runs one callback per switch and switches back, so that a
 * callback costs two context switches (and no getcontext/makecontext). */
static void
trampoline(void)
{
    OpyStack *s = stack;

#ifdef OPY_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(NULL, &s->from_bottom, &s->from_size);
#endif
    for (;;) {
        s->fn(s->arg);
#ifdef OPY_ASAN_FIBERS
        __sanitizer_start_switch_fiber(&s->callee_fake, s->from_bottom, s->from_size);
#endif
        swapcontext(&s->callee, &s->caller);
#ifdef OPY_ASAN_FIBERS
        __sanitizer_finish_switch_fiber(s->callee_fake, &s->from_bottom, &s->from_size);
#endif
    }
}

/* Both switches: before, what the callback runs and the ASan fiber start;
 * after (back on the thread's stack, or when the switch failed), the ASan
 * fiber end and Python told the stack is no longer in use. */
static void
switch_begin(OpyStack *s, void (*fn)(void *), void *arg, void **fake)
{
    s->fn = fn;
    s->arg = arg;
    s->depth++;
    opy_stack_state = 2;           /* nested callbacks stay on it */
#ifdef OPY_ASAN_FIBERS
    __sanitizer_start_switch_fiber(fake, s->base, s->size);
#else
    (void) fake;
#endif
}

static void
switch_end(OpyStack *s, void *fake)
{
#ifdef OPY_ASAN_FIBERS
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#else
    (void) fake;
#endif
    s->depth--;
    opy_stack_state = 1;
#ifdef OPY_HAVE_STACK_PROTECTION
    if (s->protected != NULL) {
        /* only this thread uses its state: no GIL needed to write it */
        PyUnstable_ThreadState_ResetStackProtection(s->protected);
        s->protected = NULL;
    }
#endif
}

void
opy_stack_run(void (*fn)(void *), void *arg)
{
    OpyStack *s = stack;
    void *fake = NULL;

    if (s == NULL || s->depth > 0) {
        fn(arg);
        return;
    }
#ifdef OPY_STACK_CALL
    if (!opy_stack_ucontext) {
        switch_begin(s, fn, arg, &fake);
        call_on(on_stack, s, s->base + s->size);
        switch_end(s, fake);
        return;
    }
#endif
    if (!s->ready) {
        if (getcontext(&s->callee) != 0) {
            fn(arg);
            return;
        }
        s->callee.uc_stack.ss_sp = s->base;
        s->callee.uc_stack.ss_size = s->size;
        s->callee.uc_link = NULL;       /* never returns */
        makecontext(&s->callee, trampoline, 0);
        s->ready = 1;
    }
    switch_begin(s, fn, arg, &fake);
    if (swapcontext(&s->caller, &s->callee) != 0) {
        switch_end(s, fake);
        fn(arg);
        return;
    }
    switch_end(s, fake);
}

void
opy_stack_attach(PyThreadState *ts)
{
#ifdef OPY_HAVE_STACK_PROTECTION
    OpyStack *s = stack;

    if (s != NULL && s->depth > 0 && s->protected != ts) {
        if (PyUnstable_ThreadState_SetStackProtection(ts, s->base, s->size) == 0)
            s->protected = ts;
        else
            PyErr_Clear();
    }
#else
    (void) ts;
#endif
}

void
opy_stack_detach(PyThreadState *ts)
{
#ifdef OPY_HAVE_STACK_PROTECTION
    OpyStack *s = stack;

    if (s != NULL && s->protected == ts) {
        PyUnstable_ThreadState_ResetStackProtection(ts);
        s->protected = NULL;
    }
#else
    (void) ts;
#endif
}

int
opy_stack_switched(void)
{
    return stack != NULL && stack->depth > 0;
}
