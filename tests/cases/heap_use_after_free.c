/* Use after free, found after the heap has moved on: a 40-byte block is freed, then about 1000
 * other blocks of sizes from 1 byte to 2 KB are allocated and freed (some of them the freed
 * block's size), and only then is an int read 8 bytes into the freed block. The churn frees about
 * 1 MB in all, less than memcheck's default delayed-free quarantine (4 MB), so the block must
 * still be known as freed, with its allocation and free callstacks. */
#include <stdio.h>
#include <stdlib.h>

#define LIVE 64

static __attribute__((noinline)) unsigned churn(int rounds)
{
    void *live[LIVE] = {0};
    unsigned seed = 12345, total = 0;
    for (int i = 0; i < rounds; i++) {
        seed = seed * 1103515245u + 12345u;
        int slot = (int)((seed >> 16) % LIVE);
        size_t size = (i % 4 == 0) ? 40 : 1 + (seed >> 8) % 2048;
        free(live[slot]);
        char *block = malloc(size);
        block[0] = (char)i;
        block[size - 1] = (char)size;
        total += (unsigned char)block[size - 1];
        live[slot] = block;
    }
    for (int i = 0; i < LIVE; i++) free(live[i]);
    return total;
}

int main(void)
{
    int *victim = malloc(40); /* LINE_ALLOC */
    for (int i = 0; i < 10; i++) victim[i] = i;
    free(victim); /* LINE_FREE */
    unsigned total = churn(1000);
    volatile int *stale = victim;
    int value = stale[2]; /* LINE_READ */
    (void)value;
    printf("churn %u\n", total);
    return 0;
}
