/* memcheck's own file descriptors live in a range above the program's (the "tool range"), as
 * Valgrind keeps its own: the program's first open() returns 3 as natively, its close_range()
 * and closefrom() loops cannot close them, and none leaks into what it execs (all close-on-exec).
 *
 * Every descriptor the host creates comes from the functions below: they are defined in the
 * memcheck executable, so the .NET runtime's own calls (linked statically) bind to them, and
 * they are exported under glibc's version names (tool_descriptors.map), so libraries loaded
 * later (libdw, libelf) bind to them too. libc's internal opens (fopen, opendir) do not come
 * here: what they open is closed again at once. Each one makes the call with the raw system call and
 * moves a result below the range up into it (F_DUPFD_CLOEXEC, then closes the low one).
 *
 * The guest's own system calls never come here: they go through the engine's raw syscall stub,
 * and its libc is its own copy, linked by its own ld.so, which never sees this executable.
 *
 * The range is the top TOOL_RANGE_SIZE descriptors below the soft RLIMIT_NOFILE, raised by that
 * much first when the hard limit allows (Valgrind's scheme). The engine keeps the program's soft
 * limit at or below the range's start for the kernel, so whatever the program opens is refused
 * at its own limit as natively, and shows the program a hard limit of the range's start. Moving
 * a descriptor up therefore lifts the soft limit for the moment of the move.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define TOOL_RANGE_SIZE 1024
#define MIN_RANGE_SIZE 8

static int range_start = -1, range_end = -1;
static uint64_t initial_soft, initial_hard;
/* Descriptors in the range that were open when memcheck was executed: the program's, not ours. */
static uint64_t inherited[TOOL_RANGE_SIZE / 64];

static int get_nofile(struct rlimit *limit)
{
    return (int)syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, limit);
}

static int set_nofile(const struct rlimit *limit)
{
    return (int)syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, limit, NULL);
}

__attribute__((constructor(101))) static void reserve_tool_range(void)
{
    struct rlimit limit;
    if (get_nofile(&limit) != 0)
        return;
    initial_soft = limit.rlim_cur;
    initial_hard = limit.rlim_max;
    /* The kernel caps RLIMIT_NOFILE at fs.nr_open (2^20 by default): never more descriptors than that. */
    uint64_t hard = limit.rlim_max > (1u << 20) ? (1u << 20) : limit.rlim_max;
    uint64_t soft = limit.rlim_cur > hard ? hard : limit.rlim_cur;
    uint64_t size = hard >= 4 * TOOL_RANGE_SIZE ? TOOL_RANGE_SIZE : hard / 4;
    if (size < MIN_RANGE_SIZE)
        return;
    uint64_t end = soft + size <= hard ? soft + size : hard;
    struct rlimit raised = { end, limit.rlim_max };
    if (end != limit.rlim_cur && set_nofile(&raised) != 0)
        return;
    range_start = (int)(end - size);
    range_end = (int)end;
    /* Which are open, in one poll (POLLNVAL: not open) rather than an fcntl per descriptor: a
     * system call costs ~1 us on some VMs, and this ran 1,024 of them at every start. */
    static struct pollfd probe[TOOL_RANGE_SIZE];
    int count = range_end - range_start;
    for (int i = 0; i < count; i++)
        probe[i] = (struct pollfd){ .fd = range_start + i, .events = 0 };
    if (syscall(SYS_poll, probe, count, 0) >= 0) {
        for (int i = 0; i < count; i++)
            if (!(probe[i].revents & POLLNVAL))
                inherited[i / 64] |= (uint64_t)1 << (i % 64);
    } else {
        for (int fd = range_start; fd < range_end; fd++)
            if (syscall(SYS_fcntl, fd, F_GETFD) >= 0)
                inherited[(fd - range_start) / 64] |= (uint64_t)1 << ((fd - range_start) % 64);
    }
    /* Grow the descriptor table to the range's end now, while this is the only thread: grown later
     * (the first descriptor moved up, after the runtime started its threads) the kernel waits for an
     * RCU grace period first (expand_fdtable), 10-20 ms of every run's wall time while idle. */
    long top = syscall(SYS_fcntl, 0, F_DUPFD_CLOEXEC, range_end - 1);
    if (top < 0)
        top = syscall(SYS_fcntl, 1, F_DUPFD_CLOEXEC, range_end - 1);
    if (top >= 0)
        syscall(SYS_close, top);
}

/* The range and the limits memcheck was started with; 0 when there is no range (tiny limits). */
int checker_tool_descriptor_range(int *start, int *end, uint64_t *soft, uint64_t *hard)
{
    *start = range_start;
    *end = range_end;
    *soft = initial_soft;
    *hard = initial_hard;
    return range_start >= 0;
}

/* Whether fd (in the range) was open when memcheck was executed. */
int checker_tool_descriptor_inherited(int fd)
{
    if (range_start < 0 || fd < range_start || fd >= range_end)
        return 0;
    return (int)((inherited[(fd - range_start) / 64] >> ((fd - range_start) % 64)) & 1);
}

/* One attempt to copy fd into the range: lifts the soft limit to the range's end for the moment
 * when the engine holds it lower. No lock (a guest fork is a raw clone: a lock held by another
 * thread would stay held in the child): a thread that lifted the limit puts back what it found,
 * and a copy that loses a race with another thread's putting back fails with EINVAL and is tried again. */
static long copy_into_range(int fd)
{
    struct rlimit limit;
    int lifted = 0;
    if (get_nofile(&limit) == 0 && limit.rlim_cur < (rlim_t)range_end) {
        struct rlimit open_range = { (rlim_t)range_end, limit.rlim_max };
        lifted = set_nofile(&open_range) == 0;
    }
    long high = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, range_start);
    if (lifted)
        set_nofile(&limit);
    return high;
}

/* fd, moved into the range (close-on-exec); fd itself when it is an error, already there, or the
 * range is full (then the program sees it, nothing worse). errno is left as the call set it. */
static int relocate(int fd)
{
    if (fd < 0 || range_start < 0 || fd >= range_start)
        return fd;
    int saved_errno = errno;
    long high = -1;
    for (int attempt = 0; attempt < 3 && high < 0; attempt++)
        high = copy_into_range(fd);
    if (high >= 0)
        syscall(SYS_close, fd);
    errno = saved_errno;
    return high >= 0 ? (int)high : fd;
}

static int relocate_pair(int result, int fds[2])
{
    if (result == 0) {
        fds[0] = relocate(fds[0]);
        fds[1] = relocate(fds[1]);
    }
    return result;
}

static mode_t mode_argument(int flags, va_list arguments)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(arguments, mode_t) : 0;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = mode_argument(flags, arguments);
    va_end(arguments);
    return relocate((int)syscall(SYS_openat, dirfd, path, flags, mode));
}

int open(const char *path, int flags, ...)
{
    va_list arguments;
    va_start(arguments, flags);
    mode_t mode = mode_argument(flags, arguments);
    va_end(arguments);
    return relocate((int)syscall(SYS_openat, AT_FDCWD, path, flags, mode));
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

/* _FORTIFY_SOURCE's checked forms (no mode: O_CREAT without one is refused at compile time). */
int __open_2(const char *path, int flags) { return open(path, flags); }
int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
int __openat_2(int dirfd, const char *path, int flags) { return openat(dirfd, path, flags); }
int __openat64_2(int dirfd, const char *path, int flags) __attribute__((alias("__openat_2")));

int creat(const char *path, mode_t mode) { return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode); }
int creat64(const char *path, mode_t mode) __attribute__((alias("creat")));

int dup(int fd) { return relocate((int)syscall(SYS_dup, fd)); }

/* Every command's argument is one register wide on x86-64 (glibc's own fcntl reads it the same way);
 * F_DUPFD and F_DUPFD_CLOEXEC create a descriptor (the runtime's console streams dup fd 2 so). */
int fcntl(int fd, int command, ...)
{
    va_list arguments;
    va_start(arguments, command);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    int result = (int)syscall(SYS_fcntl, fd, command, argument);
    return command == F_DUPFD || command == F_DUPFD_CLOEXEC ? relocate(result) : result;
}

int fcntl64(int fd, int command, ...) __attribute__((alias("fcntl")));
int pipe2(int fds[2], int flags) { return relocate_pair((int)syscall(SYS_pipe2, fds, flags), fds); }
int pipe(int fds[2]) { return pipe2(fds, 0); }
int socket(int domain, int type, int protocol) { return relocate((int)syscall(SYS_socket, domain, type, protocol)); }
int socketpair(int domain, int type, int protocol, int fds[2])
{
    return relocate_pair((int)syscall(SYS_socketpair, domain, type, protocol, fds), fds);
}
int accept4(int fd, void *address, void *length, int flags) { return relocate((int)syscall(SYS_accept4, fd, address, length, flags)); }
int accept(int fd, void *address, void *length) { return accept4(fd, address, length, 0); }
int epoll_create1(int flags) { return relocate((int)syscall(SYS_epoll_create1, flags)); }
int epoll_create(int size) { return size <= 0 ? (errno = EINVAL, -1) : epoll_create1(0); }
int inotify_init1(int flags) { return relocate((int)syscall(SYS_inotify_init1, flags)); }
int inotify_init(void) { return inotify_init1(0); }
int eventfd(unsigned int count, int flags) { return relocate((int)syscall(SYS_eventfd2, count, flags)); }
int memfd_create(const char *name, unsigned int flags) { return relocate((int)syscall(SYS_memfd_create, name, flags)); }
int timerfd_create(int clock, int flags) { return relocate((int)syscall(SYS_timerfd_create, clock, flags)); }
