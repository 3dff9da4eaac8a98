/* What a program sees of its own /proc/self/task and /proc/self/fd, the way chromium's zygote and
 * crashpad look: with a second thread running, the link count of /proc/self/task (fstatat of
 * "self/task/" under an fd of /proc/, as chromium's single-thread check does), the thread entries
 * it lists, and the descriptors /proc/self/fd lists, each closed (failures counted). Under
 * memcheck the same as natively: memcheck's own threads and descriptors are not the program's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_barrier_t started, done;

static void *second(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&done);
    return NULL;
}

static int entries(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

int main(void)
{
    pthread_barrier_init(&started, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, second, NULL);
    pthread_barrier_wait(&started);

    int proc = open("/proc/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    fstatat(proc, "self/task/", &st, 0);
    printf("task links %ld, entries %d\n", (long)st.st_nlink, entries("/proc/self/task"));
    close(proc);

    /* Close every listed descriptor above stderr but the directory's own. */
    DIR *d = opendir("/proc/self/fd");
    int listed = 0, failed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        int fd = atoi(e->d_name);
        listed++;
        if (fd > 2 && fd != dirfd(d) && close(fd) != 0) failed++;
    }
    closedir(d);
    printf("fds listed %d, closes failed %d\n", listed, failed);

    pthread_barrier_wait(&done);
    pthread_join(t, NULL);
    return 0;
}
