// measure FILE COMMAND [ARG...]: runs COMMAND (stdin, stdout and stderr
// inherited) and writes to FILE, on one line, its peak resident memory in KiB
// (the child's ru_maxrss from wait4, which covers every image it exec'd and the
// children it waited for) and its wall time in nanoseconds, fork to wait4.
// bench/run.sh uses it for the time and RSS columns: /usr/bin/time need not be
// installed, and timing here rather than in the shell leaves out the shell's
// own forks (a `date` costs a few ms on this VM, which hid /bin/true's time).
// Exits with COMMAND's status, or 128+N when it died of signal N (as a shell
// reports it); 127 when COMMAND cannot be run, 126 on other errors of its own.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: measure FILE COMMAND [ARG...]\n");
        return 126;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "measure: fork: %s\n", strerror(errno));
        return 126;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "measure: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
            return 126;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long elapsed = (end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    FILE *out = fopen(argv[1], "w");
    if (out == NULL || fprintf(out, "%ld %lld\n", usage.ru_maxrss, elapsed) < 0 || fclose(out) != 0) {
        fprintf(stderr, "measure: cannot write %s\n", argv[1]);
        return 126;
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
