/* Which freed blocks come back: five 100-byte blocks freed oldest first, then three allocations of
 * the same size. Under --delay-frees=3 the quarantine keeps the newest three, so the oldest two are
 * reused; with room for all five none is. Addresses are kept as integers before the frees. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    uintptr_t freed[5];
    for (int i = 0; i < 5; i++) {
        char *p = malloc(100);
        p[0] = (char)i;
        freed[i] = (uintptr_t)p;
    }
    for (int i = 0; i < 5; i++) free((void *)freed[i]);
    int oldest = 0, newest = 0;
    void *again[3];
    for (int i = 0; i < 3; i++) {
        again[i] = malloc(100);
        for (int j = 0; j < 5; j++)
            if ((uintptr_t)again[i] == freed[j]) *(j < 2 ? &oldest : &newest) += 1;
    }
    printf("oldest two reused: %d, newest three reused: %d\n", oldest, newest);
    for (int i = 0; i < 3; i++) free(again[i]);
    return 0;
}
