/* Frames on stacks other than the thread's own: a coroutine on a malloc'd stack, two coroutines
 * on adjacent mmap'd stacks switching back and forth, a signal handler on an alternate stack, a
 * thread on a stack the program gave it. On each, a leaf first fills a local array (clean), then
 * another leaf at the same depth reads slots it never wrote: stale bytes of the first, which must
 * still read as undefined (reported, as Valgrind does). Switching stacks (swapcontext) must never
 * paint the other stacks' live frames: the clean rounds after switches report nothing. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static volatile int sink;

__attribute__((noinline)) static int fill(int n)
{
    volatile int a[16];
    for (int i = 0; i < 16; i++) a[i] = i * n;
    int s = 0;
    for (int i = 0; i < 16; i++) s += a[i];
    return s;
}

__attribute__((noinline)) static int stale(int n)
{
    volatile int a[16];
    a[0] = n;
    int s = 0;
    for (int i = 0; i < 16; i += 5) s += a[i];
    return s;
}

/* A frame that keeps live, defined data across a switch: checked when the coroutine resumes. */
__attribute__((noinline)) static int keep_across(ucontext_t *self, ucontext_t *other, int seed)
{
    volatile int kept[8];
    for (int i = 0; i < 8; i++) kept[i] = seed + i;
    swapcontext(self, other);
    int s = 0;
    for (int i = 0; i < 8; i++) s += kept[i];
    return s;
}

static ucontext_t main_ctx, heap_ctx, ping_ctx, pong_ctx;

static void heap_coroutine(void)
{
    for (int round = 0; round < 3; round++) {
        if (fill(round) > 1000) sink++;
        swapcontext(&heap_ctx, &main_ctx);
    }
    if (stale(3) > 10) sink++; /* LINE_COROUTINE */
}

static void ping(void)
{
    for (int round = 0; round < 3; round++)
        if (keep_across(&ping_ctx, &pong_ctx, round) != 8 * round + 28) puts("ping lost its frame");
}

static void pong(void)
{
    for (int round = 0; round < 3; round++)
        if (keep_across(&pong_ctx, &ping_ctx, 10 * round) != 80 * round + 28) puts("pong lost its frame");
}

static void on_usr1(int sig)
{
    (void)sig;
    if (fill(2) > 1000) sink++;
    if (stale(4) > 10) sink++; /* LINE_HANDLER */
}

static void *thread_main(void *arg)
{
    if (fill(5) > 1000) sink++;
    if (stale(6) > 10) sink++; /* LINE_THREAD */
    return arg;
}

int main(void)
{
    size_t size = 256 * 1024;
    char *heap_stack = malloc(size);
    getcontext(&heap_ctx);
    heap_ctx.uc_stack.ss_sp = heap_stack;
    heap_ctx.uc_stack.ss_size = size;
    heap_ctx.uc_link = &main_ctx;
    makecontext(&heap_ctx, heap_coroutine, 0);
    for (int i = 0; i < 4; i++) swapcontext(&main_ctx, &heap_ctx);

    /* Two stacks 64 KiB apart in one mapping: a switch moves rsp less than a big frame would. */
    char *stacks = mmap(NULL, 2 * 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    getcontext(&ping_ctx);
    ping_ctx.uc_stack.ss_sp = stacks;
    ping_ctx.uc_stack.ss_size = 65536;
    ping_ctx.uc_link = &main_ctx;
    makecontext(&ping_ctx, ping, 0);
    getcontext(&pong_ctx);
    pong_ctx.uc_stack.ss_sp = stacks + 65536;
    pong_ctx.uc_stack.ss_size = 65536;
    pong_ctx.uc_link = &main_ctx;
    makecontext(&pong_ctx, pong, 0);
    swapcontext(&main_ctx, &ping_ctx);

    stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    raise(SIGUSR1);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    size_t thread_size = 1 << 20;
    pthread_attr_setstack(&attr, malloc(thread_size), thread_size);
    pthread_t thread;
    pthread_create(&thread, &attr, thread_main, NULL);
    pthread_join(thread, NULL);

    if (stale(7) > 10) sink++; /* LINE_MAIN */
    puts("done");
    return 0;
}
