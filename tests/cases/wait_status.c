/* wait_status: test helper, not a case of its own. Runs PROGRAM ARGS as a
 * child (stdin, stdout and stderr inherited), waits for it and reports on
 * stderr exactly how it ended, "wait_status: exited N" or "wait_status:
 * killed by signal N (NAME)", which a shell's $? (128+N either way) cannot
 * tell apart. Exits 0 once it has reported, 2 if it cannot run the child. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: wait_status PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("wait_status: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror("wait_status: exec");
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("wait_status: waitpid");
        return 2;
    }
    if (WIFEXITED(status))
        fprintf(stderr, "wait_status: exited %d\n", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        fprintf(stderr, "wait_status: killed by signal %d (%s)\n",
                WTERMSIG(status), sigabbrev_np(WTERMSIG(status)));
    else
        fprintf(stderr, "wait_status: unexpected status 0x%x\n", status);
    return 0;
}
