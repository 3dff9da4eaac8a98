/* self_exe: the program's view of its own executable through /proc/self/exe.
 *   self_exe links     readlink of /proc/self/exe, /proc/PID/exe, /proc/thread-self/exe and
 *                      /proc/self/task/PID/exe, and readlink into a 4-byte buffer (truncated)
 *   self_exe open      open + read of /proc/self/exe: its ELF magic and its size next to stat's
 *   self_exe reexec    execv("/proc/self/exe", [argv0, "again"]): the program runs again
 *   self_exe again     (the re-run) prints what it is
 * Exits 0 when every call worked. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int show_link(const char *path, const char *label)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n < 0) {
        perror(path);
        return 1;
    }
    target[n] = 0;
    printf("%s -> %s\n", label, target);
    return 0;
}

static int links(void)
{
    char pid_exe[64], task_exe[64];
    snprintf(pid_exe, sizeof pid_exe, "/proc/%d/exe", (int)getpid());
    snprintf(task_exe, sizeof task_exe, "/proc/self/task/%d/exe", (int)getpid());
    int failed = show_link("/proc/self/exe", "/proc/self/exe") + show_link(pid_exe, "/proc/PID/exe") +
        show_link("/proc/thread-self/exe", "/proc/thread-self/exe") + show_link(task_exe, "/proc/self/task/TID/exe");
    char small[4];
    ssize_t n = readlink("/proc/self/exe", small, sizeof small);
    printf("truncated readlink: %zd bytes \"%.4s\"\n", n, small);
    return failed;
}

static int open_self(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0) {
        perror("open /proc/self/exe");
        return 1;
    }
    unsigned char magic[4];
    struct stat by_fd, by_path;
    if (read(fd, magic, 4) != 4 || fstat(fd, &by_fd) != 0 || stat("/proc/self/exe", &by_path) != 0) {
        perror("read/fstat/stat");
        return 1;
    }
    printf("magic %s\n", memcmp(magic, "\177ELF", 4) == 0 ? "ELF" : "not ELF");
    printf("size %lld\n", (long long)by_fd.st_size);
    printf("stat same file: %s\n", by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev ? "yes" : "no");
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (strcmp(argv[1], "links") == 0)
        return links();
    if (strcmp(argv[1], "open") == 0)
        return open_self();
    if (strcmp(argv[1], "again") == 0) {
        printf("running again as %s\n", argv[0]);
        return links();
    }
    if (strcmp(argv[1], "reexec") == 0) {
        printf("about to re-execute\n");
        fflush(stdout);
        char *again[] = { argv[0], "again", NULL };
        execv("/proc/self/exe", again);
        perror("execv /proc/self/exe");
        return 1;
    }
    return 2;
}
