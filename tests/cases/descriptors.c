/* descriptors: what the program sees of file descriptors and their limit.
 *   - its first open() (3 natively: memcheck's own descriptors must not take it)
 *   - RLIMIT_NOFILE, and that the kernel refuses a descriptor at the soft limit
 *   - the descriptors listed in /proc/self/fd below the hard limit, and how many are at or above it
 *   - with setrlimit(RLIMIT_NOFILE, 40): opens fail with EMFILE at fd 40, as natively
 *   - close_range(3, ~0U) succeeds; then a heap overflow, whose report must still reach the user */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static __attribute__((noinline)) char *opaque(char *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(void)
{
    int first = open("/dev/null", O_RDONLY);
    printf("first open: %d\n", first);
    close(first);

    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    int at_limit = fcntl(0, F_DUPFD, (int)limit.rlim_cur);
    printf("dup at the soft limit: %s\n", at_limit < 0 ? strerror(errno) : "succeeded");
    fprintf(stderr, "limits %llu %llu\n", (unsigned long long)limit.rlim_cur, (unsigned long long)limit.rlim_max);

    DIR *dir = opendir("/proc/self/fd");
    int above = 0;
    for (struct dirent *entry; dir && (entry = readdir(dir)) != NULL;) {
        if (entry->d_name[0] == '.')
            continue;
        long fd = strtol(entry->d_name, NULL, 10);
        if ((unsigned long long)fd >= limit.rlim_max)
            above++;
        else
            fprintf(stderr, "fd %ld\n", fd);
    }
    closedir(dir);
    fprintf(stderr, "above the hard limit: %d\n", above);

    struct rlimit small = { 40, limit.rlim_max };
    if (setrlimit(RLIMIT_NOFILE, &small) != 0)
        perror("setrlimit");
    int last = -1, fd;
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        last = fd;
    printf("with a limit of 40: last fd %d, then %s\n", last, strerror(errno));
    setrlimit(RLIMIT_NOFILE, &limit);

    printf("close_range: %ld\n", syscall(SYS_close_range, 3, ~0U, 0));
    fflush(stdout);

    char *p = opaque(malloc(8));
    p[8] = 1; /* LINE_AFTER_CLOSE_RANGE */
    free(p);
    return 0;
}
