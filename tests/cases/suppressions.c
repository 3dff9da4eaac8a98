/* Errors for the suppression tests, each in a function of its own so that a suppression can name
   exactly one: an invalid write, an undefined condition, a system call's undefined buffer, a
   double free, a definite leak from malloc and one from calloc, and a possible leak (only a
   pointer into the block's middle is left). Exits 0; the markers name the lines. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char *middle;

__attribute__((noinline)) void overflow_heap(char *p) { p[16] = 1; /* SUPP_OVERFLOW */ }

__attribute__((noinline)) int decide_uninit(const int *p)
{
    if (*p > 3) /* SUPP_COND */
        return 1;
    return 0;
}

__attribute__((noinline)) void write_uninit(int fd)
{
    char *b = malloc(8);
    (void)!write(fd, b, 8); /* SUPP_PARAM */
    free(b);
}

__attribute__((noinline)) void free_twice(void)
{
    char *b = malloc(8);
    free(b);
    free(b); /* SUPP_FREE */
}

__attribute__((noinline)) void *leak_malloc(void) { return malloc(40); /* SUPP_LEAK_MALLOC */ }

__attribute__((noinline)) void *leak_calloc(void) { return calloc(5, 8); /* SUPP_LEAK_CALLOC */ }

__attribute__((noinline)) void leak_possible(void) { middle = (char *)malloc(64) + 8; /* SUPP_LEAK_POSSIBLE */ }

int main(void)
{
    char *p = malloc(16);
    overflow_heap(p);
    int *q = malloc(sizeof *q);
    int r = decide_uninit(q);
    int fd = open("/dev/null", O_WRONLY);
    write_uninit(fd);
    close(fd);
    free_twice();
    void *volatile lost = leak_malloc();
    lost = leak_calloc();
    lost = 0;
    leak_possible();
    free(p);
    free(q);
    return r & 0;
}
