/* return_paths: returns the CPU's return stack cannot predict, or that do not go back to the
 * call that pushed their address, run as natively. Each argument names a scenario and prints what
 * it computed, so the output is the same natively and under memcheck. deep: recursion far beyond
 * any return stack's depth. longjmp: longjmp out of nested calls, then ordinary calls and returns.
 * written: a ret to an address the program pushed itself. skip: a callee that drops its own return
 * address and returns to its caller's caller. retimm: ret imm16 releasing a stack argument.
 * context: swapcontext ping-pong between two stacks. signal: an itimer's handler running (and
 * recursing) while the program recurses. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

long bounce(long x);        /* returns 3x through a ret to a pushed label */
long skip_outer(void);      /* returns 7: its callee returns straight to skip_outer's caller */
long ret_imm(long x);       /* returns x + 1 from a callee that ends in ret 8 */

__asm__(
    ".text\n"
    ".globl bounce\n"
    "bounce:\n"
    "  lea 1f(%rip), %rax\n"
    "  push %rax\n"
    "  ret\n"
    "1:\n"
    "  lea (%rdi,%rdi,2), %rax\n"
    "  ret\n"
    ".globl skip_frame\n"
    "skip_frame:\n"
    "  pop %rax\n"
    "  mov $7, %eax\n"
    "  ret\n"
    ".globl skip_outer\n"
    "skip_outer:\n"
    "  call skip_frame\n"
    "  mov $1, %eax\n"
    "  ret\n"
    ".globl ret_imm\n"
    "ret_imm:\n"
    "  push %rdi\n"
    "  call 2f\n"
    "  ret\n"
    "2:\n"
    "  mov 8(%rsp), %rax\n"
    "  add $1, %rax\n"
    "  ret $8\n");

__attribute__((noinline)) static long depth_sum(long n)
{
    if (n == 0) return 0;
    long below = depth_sum(n - 1);
    __asm__ volatile("" ::: "memory");
    return below + (n & 15);
}

static jmp_buf escape;

__attribute__((noinline)) static long nest(int n)
{
    if (n == 0) longjmp(escape, 1);
    long r = nest(n - 1);
    __asm__ volatile("" ::: "memory");
    return r + 1;
}

static ucontext_t main_context, side_context;
static volatile long ping;

static void side(void)
{
    for (;;)
    {
        ping += depth_sum(20);
        swapcontext(&side_context, &main_context);
    }
}

static volatile sig_atomic_t ticks;
static volatile long in_handler;

static void on_alarm(int sig)
{
    (void)sig;
    in_handler += depth_sum(100);
    ticks++;
}

int main(int argc, char **argv)
{
    const char *s = argc > 1 ? argv[1] : "";
    if (!strcmp(s, "deep"))
    {
        long total = 0;
        for (int i = 0; i < 20; i++) total += depth_sum(50000);
        printf("deep: %ld\n", total);
    }
    else if (!strcmp(s, "longjmp"))
    {
        int escapes = 0;
        for (int i = 0; i < 2000; i++)
        {
            if (setjmp(escape) == 0) nest(1 + i % 60);
            else escapes++;
        }
        printf("longjmp: %d escapes, then %ld\n", escapes, depth_sum(1000));
    }
    else if (!strcmp(s, "written"))
    {
        long total = 0;
        for (long i = 0; i < 100000; i++) total += bounce(i);
        printf("written: %ld\n", total);
    }
    else if (!strcmp(s, "skip"))
    {
        long total = 0;
        for (int i = 0; i < 100000; i++) total += skip_outer();
        printf("skip: %ld\n", total);
    }
    else if (!strcmp(s, "retimm"))
    {
        long total = 0;
        for (long i = 0; i < 100000; i++) total += ret_imm(i);
        printf("retimm: %ld\n", total);
    }
    else if (!strcmp(s, "context"))
    {
        static char stack[256 * 1024];
        getcontext(&side_context);
        side_context.uc_stack.ss_sp = stack;
        side_context.uc_stack.ss_size = sizeof stack;
        side_context.uc_link = NULL;
        makecontext(&side_context, side, 0);
        for (int i = 0; i < 1000; i++) swapcontext(&main_context, &side_context);
        printf("context: %ld\n", ping);
    }
    else if (!strcmp(s, "signal"))
    {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval timer = { { 0, 2000 }, { 0, 2000 } };
        setitimer(ITIMER_REAL, &timer, NULL);
        long rounds = 0, wrong = 0;
        while (ticks < 20)
        {
            if (depth_sum(3000) != 22476) wrong++;
            rounds++;
        }
        struct itimerval off = { { 0, 0 }, { 0, 0 } };
        setitimer(ITIMER_REAL, &off, NULL);
        printf("signal: %s, handler %s\n", wrong == 0 ? "right" : "wrong", in_handler == 730L * ticks ? "right" : "wrong");
    }
    else
    {
        fprintf(stderr, "usage: return_paths deep|longjmp|written|skip|retimm|context|signal\n");
        return 2;
    }
    return 0;
}
