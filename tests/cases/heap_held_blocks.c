/* Holds 2,000 blocks of 1,000 bytes (2 MB live) at once, then frees them: memcheck's --stats
 * describes the replacement heap at its largest (HeapStatistics test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    enum { N = 2000, SIZE = 1000 };
    static char *blocks[N];
    unsigned sum = 0;
    for (int i = 0; i < N; i++) {
        blocks[i] = malloc(SIZE);
        memset(blocks[i], i & 0xff, SIZE);
    }
    for (int i = 0; i < N; i++) {
        sum += (unsigned char)blocks[i][i % SIZE];
        free(blocks[i]);
    }
    printf("sum %u\n", sum);
    return 0;
}
