/* A stale pointer after realloc: a 16-byte block grows to 4096 bytes and the program keeps reading
 * through the old pointer, three times from the same instruction (one error, counted 3 times).
 * memcheck's realloc always moves, so the old block is freed, freed by realloc's call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *old = malloc(16); /* LINE_ALLOC */
    memset(old, 'a', 16);
    char *fresh = realloc(old, 4096); /* LINE_REALLOC */
    volatile char *stale = old;
    int sum = 0;
    for (int i = 0; i < 3; i++)
        sum += stale[i]; /* LINE_STALE */
    (void)sum;
    int kept = 0;
    for (int i = 0; i < 16; i++) kept += fresh[i] == 'a';
    free(fresh);
    printf("kept %d\n", kept);
    return 0;
}
