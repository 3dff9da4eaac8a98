/* One error of the kind argv[1] names, then exit status 3: what --error-exitcode and
 * --errors-for-leak-kinds gate on, kind by kind ("none" has no error at all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *global_interior;

__attribute__((noinline)) static int heap_overflow(void)
{
    char *p = malloc(10);
    p[10] = 1; /* LINE_OVERFLOW */
    free(p);
    return 0;
}

__attribute__((noinline)) static int use_after_free(void)
{
    volatile char *p = malloc(10);
    free((void *)p);
    return p[3]; /* LINE_UAF */
}

__attribute__((noinline)) static int uninitialized(void)
{
    int *p = malloc(sizeof *p);
    int r = 0;
    if (*p > 5) r = 1; /* LINE_UNINIT */
    free(p);
    return r;
}

__attribute__((noinline)) static int syscall_param(void)
{
    char *p = malloc(8);
    p[0] = 'x';
    ssize_t n = write(-1, p, 8); /* LINE_PARAM */
    free(p);
    return n > 0;
}

__attribute__((noinline)) static int double_free(void)
{
    char *p = malloc(10);
    free(p);
    free(p); /* LINE_DOUBLE_FREE */
    return 0;
}

__attribute__((noinline)) static int overlap(void)
{
    char buf[32] = "abcdefghijklmnop";
    memcpy(buf + 2, buf, 10); /* LINE_OVERLAP */
    return buf[5];
}

__attribute__((noinline)) static int definite_leak(void)
{
    char *volatile p = malloc(40); /* LINE_LEAK */
    p = 0;
    return p != 0;
}

__attribute__((noinline)) static int possible_leak(void)
{
    global_interior = (char *)malloc(100) + 10; /* LINE_POSSIBLE */
    return 0;
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "none";
    int r = 0;
    if (!strcmp(kind, "heap-overflow")) r = heap_overflow();
    else if (!strcmp(kind, "use-after-free")) r = use_after_free();
    else if (!strcmp(kind, "uninitialized")) r = uninitialized();
    else if (!strcmp(kind, "syscall-param")) r = syscall_param();
    else if (!strcmp(kind, "double-free")) r = double_free();
    else if (!strcmp(kind, "overlap")) r = overlap();
    else if (!strcmp(kind, "definite-leak")) r = definite_leak();
    else if (!strcmp(kind, "possible-leak")) r = possible_leak();
    printf("%s %d\n", kind, r & 0);
    return 3;
}
