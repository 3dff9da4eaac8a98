/* bad_pointers: system calls given bad pointers, which the kernel answers with EFAULT. memcheck
 * emulates some of them (signal actions, masks, alternate stacks, fs base, readlink of its own
 * exe): it must answer the same, never fault itself. memcheck copies guest memory directly with a
 * copy whose faults it recovers (SIGSEGV of unmapped, PROT_NONE and read-only pages, SIGBUS of a
 * file mapping past its file's end). Prints each result; the run must match the native one line
 * for line. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <stdlib.h>
#include <sys/mman.h>

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
    /* Mapped, but not readable or not writable; and a sigaction that runs off a page's end. */
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *readonly = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *pair = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(pair + 4096, 4096);
    show("rt_sigaction PROT_NONE", syscall(SYS_rt_sigaction, SIGUSR1, none, NULL, 8));
    show("rt_sigaction oldact read-only", syscall(SYS_rt_sigaction, SIGUSR1, NULL, readonly, 8));
    show("rt_sigaction across the end", syscall(SYS_rt_sigaction, SIGUSR1, pair + 4096 - 8, NULL, 8));
    show("rt_sigaction non-canonical", syscall(SYS_rt_sigaction, SIGUSR1, (void *)0x0000800000000000UL, NULL, 8));
    show("rt_sigaction kernel half", syscall(SYS_rt_sigaction, SIGUSR1, (void *)0xffff800000000000UL, NULL, 8));
    /* A shared file mapping whose file shrank: reading or writing it is SIGBUS. */
    char path[] = "/tmp/bad_pointersXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 8192) != 0) return 1;
    char *shrunk = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shrunk == MAP_FAILED || ftruncate(fd, 0) != 0) return 1;
    unlink(path);
    show("rt_sigaction past file end", syscall(SYS_rt_sigaction, SIGUSR1, shrunk, NULL, 8));
    show("rt_sigaction old past end", syscall(SYS_rt_sigaction, SIGUSR1, NULL, shrunk + 4096, 8));
    show("open PROT_NONE path", syscall(SYS_openat, AT_FDCWD, none, O_RDONLY));
    /* Still usable afterwards. */
    struct sigaction old;
    show("rt_sigaction good", sigaction(SIGUSR1, NULL, &old));
    return 0;
}
