/* A read 8 KB below the stack pointer, beyond the top of the stack. deep() first uses more than
 * 16 KB of stack, so natively the page 8 KB below peek()'s frame is mapped and the read is
 * harmless; under memcheck everything below the stack pointer is unaddressable. */
#include <stdio.h>

static __attribute__((noinline)) int deep(int seed)
{
    volatile char big[20000];
    for (size_t i = 0; i < sizeof big; i += 512) big[i] = (char)(seed + i);
    int sum = 0;
    for (size_t i = 0; i < sizeof big; i += 512) sum += big[i];
    return sum;
}

static __attribute__((noinline)) int peek(void)
{
    volatile char buf[16];
    buf[0] = 1;
    volatile char *below = (volatile char *)buf - 8192;
    char c = *below; /* LINE_BELOW */
    (void)c;
    return buf[0];
}

int main(void)
{
    int sum = deep(1);
    int one = peek(); /* LINE_CALL */
    printf("deep %d peek %d\n", sum != 0, one);
    return 0;
}
