/* The process's thread count as /proc shows it to itself: status's "Threads:" and stat's
 * num_threads (field 20), of the process and of a task, with one thread, with three, and after two
 * have ended. memcheck's own threads (the runtime's, the signal listener) are not the program's:
 * under memcheck the counts were 3 higher. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int threads_in_status(const char *path)
{
    char line[256];
    int n = -1;
    FILE *f = fopen(path, "r");
    if (!f) return -2;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
    fclose(f);
    return n;
}

static int threads_in_stat(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f) return -2;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    int field = 2;
    for (; *p; p++)
        if (*p == ' ' && ++field == 20) return atoi(p + 1);
    return -1;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;

static void *wait_at_gate(void *arg)
{
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return arg;
}

int main(void)
{
    printf("alone: %d %d\n", threads_in_status("/proc/self/status"), threads_in_stat("/proc/self/stat"));
    pthread_t threads[2];
    pthread_mutex_lock(&gate);
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, wait_at_gate, NULL);
    char task[64];
    snprintf(task, sizeof task, "/proc/%d/task/%d/stat", getpid(), getpid());
    printf("three: %d %d %d\n", threads_in_status("/proc/thread-self/status"), threads_in_stat("/proc/self/stat"),
           threads_in_stat(task));
    pthread_mutex_unlock(&gate);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    printf("joined: %d\n", threads_in_status("/proc/self/status"));
    return 0;
}
