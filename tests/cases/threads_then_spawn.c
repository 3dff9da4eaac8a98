/* Threads that end, joined, then at once a child spawned (posix_spawn: a vfork), round after round,
 * as python's threading then subprocess.run. The joiner goes on while the ended threads' host
 * threads are still leaving the runtime's thread list: a fork then gave the child that list's lock
 * held, and the child hung starting its signal listener. */
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
static void *work(void *arg) { volatile long s = 0; for (long i = 0; i < 20000; i++) s += i * (long)arg; return NULL; }
int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200, ok = 0;
    for (int r = 0; r < rounds; r++) {
        pthread_t t[4];
        for (long k = 0; k < 4; k++) pthread_create(&t[k], NULL, work, (void *)k);
        for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
        pid_t pid;
        char *args[] = {"/bin/true", NULL};
        if (posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ) == 0) {
            int status;
            if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ok++;
        }
    }
    printf("spawned %d of %d\n", ok, rounds);
    return 0;
}
