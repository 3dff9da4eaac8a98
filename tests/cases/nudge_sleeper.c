/* nudge_sleeper: leaks a block, says "leaked 1", waits (in nanosleep, interrupted by nudges) until
 * a file named by argv[1] appears, leaks a second block, says "leaked 2", waits for argv[2], then
 * prints "done" and exits 0. A test nudges it after each "leaked" line: the first nudge finds one
 * lost block, the second (with --new) only the new one. The waits never see memcheck's signals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *volatile keep;

static void wait_for(const char *path)
{
    struct timespec step = {0, 20 * 1000 * 1000};
    while (access(path, F_OK) != 0)
        if (nanosleep(&step, NULL) != 0) { printf("nanosleep interrupted\n"); return; }
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    keep = malloc(64);            /* LINE_FIRST */
    memset((void *)keep, 1, 64);
    keep = NULL;                  /* 64 bytes lost */
    printf("leaked 1\n");
    fflush(stdout);
    wait_for(argv[1]);
    keep = malloc(96);            /* LINE_SECOND */
    memset((void *)keep, 2, 96);
    keep = NULL;                  /* 96 bytes lost */
    printf("leaked 2\n");
    fflush(stdout);
    wait_for(argv[2]);
    printf("done\n");
    return 0;
}
