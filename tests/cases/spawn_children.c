/* spawn_children MODE CHILD: runs CHILD (a program path) as a child process in one of the ways
 * programs do, waits for it and prints how it ended; exits 0. Output is in one order natively and
 * under memcheck: the parent prints after the child has ended, its pid in "spawned pid=N".
 *   fork-exec         fork, then execve(CHILD) with argv[0] "renamed-child" and CHILD_MARK=exec,
 *                     SIGUSR2 blocked and SIGUSR1 ignored
 *   binary-arg        the same with an argument that is not UTF-8
 *   fexecve           fork, then fexecve of CHILD opened O_CLOEXEC (execveat with AT_EMPTY_PATH)
 *   posix_spawn       posix_spawn(CHILD), CHILD_MARK=spawn in the environment
 *   posix_spawn-missing  posix_spawn of a path that does not exist: prints the error it returns
 *   system            system("CHILD arg")
 *   popen             popen("CHILD", "r"), echoing what it reads
 *   vfork-write       vfork, the child writes a variable of the parent and _exits: prints it
 *   spawn-threads     50 posix_spawns of a missing path while another thread counts in a heap
 *                     word: prints the errors and whether the count ever went backwards (the
 *                     vfork child's pages must not undo what the other thread wrote meanwhile) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void print_status(const char *what, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", what, WTERMSIG(status));
    else
        printf("%s: status 0x%x\n", what, status);
}

static int wait_for(pid_t pid, const char *what)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        return 1;
    }
    print_status(what, status);
    return 0;
}

static volatile long *counted;
static volatile int counting = 1;
static volatile long went_back;

static void *count_in_heap(void *arg)
{
    (void)arg;
    long mine = 0;
    while (counting) {
        *counted = *counted + 1;
        if (*counted != ++mine) {
            went_back++;
            mine = *counted;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_children MODE CHILD\n");
        return 2;
    }
    const char *mode = argv[1], *child = argv[2];
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("parent starts %s\n", mode);

    if (strcmp(mode, "fork-exec") == 0 || strcmp(mode, "fexecve") == 0 || strcmp(mode, "binary-arg") == 0) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            char *child_argv[] = { "renamed-child", strcmp(mode, "binary-arg") == 0 ? "\xff\xfe" : "one", NULL };
            char *child_env[] = { "CHILD_MARK=exec", NULL };
            sigset_t usr2;
            sigemptyset(&usr2);
            sigaddset(&usr2, SIGUSR2);
            sigprocmask(SIG_BLOCK, &usr2, NULL);
            signal(SIGUSR1, SIG_IGN);
            if (strcmp(mode, "fexecve") == 0) {
                int fd = open(child, O_RDONLY | O_CLOEXEC);
                fexecve(fd, child_argv, child_env);
            } else {
                execve(child, child_argv, child_env);
            }
            perror("exec");
            _exit(126);
        }
        int failed = wait_for(pid, mode);
        printf("spawned pid=%d\n", (int)pid);
        return failed;
    }
    if (strcmp(mode, "posix_spawn") == 0 || strcmp(mode, "posix_spawn-missing") == 0) {
        setenv("CHILD_MARK", "spawn", 1);
        const char *path = strcmp(mode, "posix_spawn") == 0 ? child : "/nonexistent/child";
        char *child_argv[] = { (char *)path, "two", NULL };
        pid_t pid = 0;
        int error = posix_spawn(&pid, path, NULL, NULL, child_argv, environ);
        if (error != 0) {
            printf("posix_spawn: error %d (%s)\n", error, strerror(error));
            return 0;
        }
        int failed = wait_for(pid, mode);
        printf("spawned pid=%d\n", (int)pid);
        return failed;
    }
    if (strcmp(mode, "spawn-threads") == 0) {
        counted = calloc(1, sizeof *counted);
        pthread_t counter;
        pthread_create(&counter, NULL, count_in_heap, NULL);
        char *child_argv[] = { "/nonexistent/child", NULL };
        int errors = 0;
        for (int i = 0; i < 50; i++) {
            pid_t pid = 0;
            if (posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ) == ENOENT)
                errors++;
        }
        counting = 0;
        pthread_join(counter, NULL);
        printf("spawn-threads: %d of 50 failed with ENOENT, count went back %ld times\n", errors, went_back);
        return 0;
    }
    if (strcmp(mode, "system") == 0) {
        setenv("CHILD_MARK", "system", 1);
        char command[4096];
        snprintf(command, sizeof command, "%s arg", child);
        print_status("system", system(command));
        return 0;
    }
    if (strcmp(mode, "popen") == 0) {
        setenv("CHILD_MARK", "popen", 1);
        FILE *p = popen(child, "r");
        if (p == NULL) {
            perror("popen");
            return 1;
        }
        char line[512];
        while (fgets(line, sizeof line, p) != NULL)
            printf("popen read: %s", line);
        print_status("pclose", pclose(p));
        return 0;
    }
    if (strcmp(mode, "vfork-write") == 0) {
        static volatile int shared;
        pid_t pid = vfork();
        if (pid == 0) {
            shared = 42;
            _exit(7);
        }
        printf("after vfork: shared=%d\n", shared);
        return wait_for(pid, mode);
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
