/* Sizes and alignments no program means: each call's result and errno are printed, so the output
 * under memcheck can be compared with glibc's own; memcheck also reports each as a fishy argument. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void show(const char *what, void *p)
{
    printf("%s: %s errno=%d\n", what, p ? "block" : "NULL", errno);
    free(p);
    errno = 0;
}

int main(void)
{
    volatile size_t minus_one = (size_t)-1, half = SIZE_MAX / 2, two = 2, three = 3;
    void *kept = malloc(10), *p = NULL;
    errno = 0;
    show("malloc(-1)", malloc(minus_one)); /* LINE_MALLOC */
    show("calloc(-1, 1)", calloc(minus_one, 1)); /* LINE_CALLOC_NEGATIVE */
    show("calloc(SIZE_MAX/2, 3)", calloc(half, three)); /* LINE_CALLOC_OVERFLOW */
    show("realloc(p, -1)", realloc(kept, minus_one)); /* LINE_REALLOC */
    show("reallocarray(NULL, SIZE_MAX/2, 3)", reallocarray(NULL, half, three)); /* LINE_REALLOCARRAY */
    p = memalign(three, 10); /* LINE_MEMALIGN */
    printf("memalign(3, 10): %s aligned4=%d errno=%d\n", p ? "block" : "NULL", p && (uintptr_t)p % 4 == 0, errno);
    free(p);
    int r = posix_memalign(&p, three, 10); /* LINE_POSIX_ALIGNMENT */
    printf("posix_memalign(3): %d\n", r);
    r = posix_memalign(&p, 16, minus_one); /* LINE_POSIX_SIZE */
    printf("posix_memalign(16, -1): %d errno=%d\n", r, errno);
    errno = 0;
    show("valloc(-1)", valloc(minus_one - two)); /* LINE_VALLOC */
    show("malloc(10)", malloc(10));
    return 0;
}
