/* memcheck's report and the program's own output share one regular file (> log 2>&1): every line
 * of both must survive, in order, also across a fork whose child reports too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
static void say(const char *s) { write(1, s, strlen(s)); }
int main(void) {
    char *p = malloc(8);
    say("program: line 1\n");
    p[8] = 1;                 /* LINE_PARENT_OVERFLOW */
    say("program: line 2\n");
    fprintf(stderr, "program: stderr line\n");
    pid_t pid = fork();
    if (pid == 0) {
        say("child: line\n");
        p[9] = 2;             /* LINE_CHILD_OVERFLOW */
        say("child: exiting\n");
        exit(3);
    }
    int status; waitpid(pid, &status, 0);
    printf("parent: child exited %d\n", WEXITSTATUS(status)); fflush(stdout);
    p[-1] = 3;                /* LINE_PARENT_UNDERFLOW */
    say("parent: done\n");
    free(p);
    return 0;
}
