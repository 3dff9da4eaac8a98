/* self_view: the program's view of itself and its environment: the path of
 * /proc/self/exe, the auxiliary vector (page size, vDSO present), argc and
 * argv, CLOCK_MONOTONIC never going backwards over 1000 reads, and
 * gettimeofday returning a plausible time. Exits 0. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

int main(int argc, char **argv)
{
    char resolved[PATH_MAX];
    if (realpath("/proc/self/exe", resolved) == NULL) {
        perror("realpath /proc/self/exe");
        return 1;
    }
    printf("exe=%s\n", resolved);
    printf("pagesz=%lu\n", getauxval(AT_PAGESZ));
    printf("vdso=%s\n", getauxval(AT_SYSINFO_EHDR) != 0 ? "present" : "absent");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);

    struct timespec previous, now;
    if (clock_gettime(CLOCK_MONOTONIC, &previous) != 0) {
        perror("clock_gettime");
        return 1;
    }
    int backwards = 0;
    for (int i = 0; i < 1000; i++) {
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) {
            perror("clock_gettime");
            return 1;
        }
        if (now.tv_sec < previous.tv_sec ||
            (now.tv_sec == previous.tv_sec && now.tv_nsec < previous.tv_nsec))
            backwards++;
        previous = now;
    }
    if (backwards == 0)
        printf("monotonic ok\n");
    else
        printf("monotonic went backwards %d times\n", backwards);

    struct timeval tv;
    /* After 2020-01-01 and with a valid microsecond field. */
    if (gettimeofday(&tv, NULL) == 0 && tv.tv_sec > 1577836800 && tv.tv_usec >= 0 && tv.tv_usec < 1000000)
        printf("gettimeofday ok\n");
    else
        printf("gettimeofday failed\n");
    return 0;
}
