/* child_heap_bug: the program the child-process tests run as a child. Prints its argv[0], the
 * CHILD_MARK variable and its pid, overflows a heap block (natively harmless: malloc slack) and
 * exits 3. With the argument "clean" it does not overflow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __attribute__((noinline)) char *opaque(char *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

int main(int argc, char **argv)
{
    char *p = opaque(malloc(10));
    if (argc < 2 || strcmp(argv[1], "clean") != 0)
        p[10] = 1; /* LINE_CHILD_OVERFLOW */
    const char *mark = getenv("CHILD_MARK");
    printf("child argv0=%s mark=%s argc=%d pid=%d\n", argv[0], mark ? mark : "(none)", argc, (int)getpid());
    free(p);
    return 3;
}
