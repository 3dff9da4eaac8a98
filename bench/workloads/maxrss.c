// maxrss FILE COMMAND [ARG...]: runs COMMAND (stdin, stdout and stderr
// inherited) and writes its peak resident memory in KiB to FILE: the child's
// ru_maxrss from wait4, which covers every image it exec'd and the children it
// waited for. bench/run.sh uses it for the RSS columns, so that /usr/bin/time
// need not be installed. Exits with COMMAND's status, or 128+N when it died of
// signal N (as a shell reports it); 127 when COMMAND cannot be run, 126 on
// other errors of its own.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: maxrss FILE COMMAND [ARG...]\n");
        return 126;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "maxrss: fork: %s\n", strerror(errno));
        return 126;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "maxrss: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "maxrss: wait4: %s\n", strerror(errno));
            return 126;
        }
    }
    FILE *out = fopen(argv[1], "w");
    if (out == NULL || fprintf(out, "%ld\n", usage.ru_maxrss) < 0 || fclose(out) != 0) {
        fprintf(stderr, "maxrss: cannot write %s\n", argv[1]);
        return 126;
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
