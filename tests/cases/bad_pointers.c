/* bad_pointers: system calls given bad pointers, which the kernel answers with EFAULT. memcheck
 * emulates some of them (signal actions, masks, alternate stacks, fs base, readlink of its own
 * exe): it must answer the same, never fault itself. Prints each result; the run must match the
 * native one line for line. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <asm/prctl.h>

#define BAD ((void *)0x10)            /* unmapped */
#define WILD ((void *)0x4141414141414141)

static void show(const char *what, long result)
{
    printf("%-28s %ld %s\n", what, result, result < 0 ? strerror(errno) : "");
}

int main(void)
{
    show("rt_sigaction act", syscall(SYS_rt_sigaction, SIGUSR1, BAD, NULL, 8));
    show("rt_sigaction oldact", syscall(SYS_rt_sigaction, SIGUSR1, NULL, BAD, 8));
    show("rt_sigaction wild", syscall(SYS_rt_sigaction, SIGUSR1, WILD, WILD, 8));
    show("rt_sigprocmask set", syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD, NULL, 8));
    show("rt_sigprocmask oldset", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, BAD, 8));
    show("sigaltstack ss", syscall(SYS_sigaltstack, BAD, NULL));
    show("sigaltstack old", syscall(SYS_sigaltstack, NULL, WILD));
    show("arch_prctl ARCH_GET_FS", syscall(SYS_arch_prctl, ARCH_GET_FS, BAD));
    show("readlink path", syscall(SYS_readlink, BAD, (char[64]){0}, 64));
    show("readlink /proc/self/exe buf", syscall(SYS_readlink, "/proc/self/exe", BAD, 64));
    show("readlinkat /proc/self/exe", syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", WILD, 64));
    /* Still usable afterwards. */
    struct sigaction old;
    show("rt_sigaction good", sigaction(SIGUSR1, NULL, &old));
    return 0;
}
