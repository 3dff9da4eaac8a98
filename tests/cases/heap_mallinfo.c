/* The malloc statistics of the heap in use: under memcheck its replacement's, so a program that
 * watches mallinfo2().uordblks or malloc_usable_size sees its own blocks (exactly the sizes asked
 * for, as under Valgrind), not glibc's untouched arena. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    puts("mallinfo");   /* stdout's buffer is allocated before the first figures */
    struct mallinfo2 before = mallinfo2();
    char *p = malloc(1000);
    char *q = malloc(24);
    struct mallinfo2 during = mallinfo2();
    struct mallinfo old = mallinfo();
    printf("uordblks grew by %zu\n", during.uordblks - before.uordblks);
    printf("arena covers them: %d\n", during.arena >= during.uordblks && during.uordblks >= 1024);
    printf("mallinfo agrees: %d\n", (size_t)old.uordblks == during.uordblks);
    printf("usable sizes %zu %zu %zu\n", malloc_usable_size(p), malloc_usable_size(q), malloc_usable_size(NULL));
    free(p);
    free(q);
    struct mallinfo2 after = mallinfo2();
    printf("back to before: %d\n", after.uordblks == before.uordblks);
    printf("freed bytes counted: %d\n", after.fordblks >= 1024);
    printf("malloc_trim: %d\n", malloc_trim(0));
    return 0;
}
