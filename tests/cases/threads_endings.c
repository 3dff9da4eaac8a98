/* threads_endings MODE: how a process with several threads ends.
 *   worker_exit  - a worker calls exit(3) while main waits in pthread_join: status 3
 *   main_returns - main returns 4 while two workers spin in tight loops: status 4
 *   worker_crash - a worker writes through a null pointer while main waits: SIGSEGV, reported on
 *                  the worker's thread at the marked line
 *   main_pthread_exit - main calls pthread_exit; the last worker finishes and the process exits 0 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int *volatile null_pointer;
static volatile unsigned long spins;

static void *exits(void *arg) { (void)arg; usleep(10000); exit(3); }
static void *spinner(void *arg) { (void)arg; for (;;) spins++; return NULL; }
static void *crashes(void *arg)
{
    (void)arg;
    usleep(10000);
    *null_pointer = 1; /* LINE_WORKER_CRASH */
    return NULL;
}
static void *finishes(void *arg)
{
    (void)arg;
    usleep(20000);
    printf("last worker done\n");
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    pthread_t t, u;
    if (!strcmp(mode, "worker_exit")) {
        pthread_create(&t, NULL, exits, NULL);
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "main_returns")) {
        pthread_create(&t, NULL, spinner, NULL);
        pthread_create(&u, NULL, spinner, NULL);
        usleep(20000);
        return 4;
    } else if (!strcmp(mode, "worker_crash")) {
        pthread_create(&t, NULL, crashes, NULL);
        pthread_join(t, NULL);
    } else if (!strcmp(mode, "main_pthread_exit")) {
        pthread_create(&t, NULL, finishes, NULL);
        pthread_exit(NULL);
    }
    return 0;
}
