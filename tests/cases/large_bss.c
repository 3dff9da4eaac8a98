/* A program with a large bss: SIZE bytes (set with -DSIZE=...), written and read back at its start,
   middle and end. Natively the kernel maps it from the program headers alone. */
#include <stdio.h>

char big[SIZE];

int main(int argc, char **argv)
{
    (void)argv;
    unsigned long at[3] = {0, SIZE / 2, SIZE - 1};
    unsigned sum = 0;
    for (int i = 0; i < 3; i++) big[at[i]] = (char)(i + argc);
    for (int i = 0; i < 3; i++) sum += (unsigned char)big[at[i]];
    printf("%lu bytes of bss, sum %u\n", (unsigned long)SIZE, sum);
    return (int)sum;
}
