/* A field in bits 15..30 of a word whose other bits were never set, read back as GCC reads such
 * fields: (int)(w + w) >> 16, where w + w is an add or lea of a register with itself. Valgrind
 * takes x + x as x << 1, so the field's bits stay exactly as defined as they were stored; a branch
 * on the field reports nothing, one on a bit below it (never set) does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct node { uint32_t word; };

__attribute__((noinline)) static void set_field(struct node *n, int value)
{
    n->word = (n->word & 0x80007fffu) | ((uint32_t)value << 15 & 0x7fff8000u);
}

__attribute__((noinline)) static int field(const struct node *n)
{
    uint32_t w = n->word;
    uint32_t doubled;
    __asm__("lea (%1,%1), %0" : "=r"(doubled) : "r"(w));
    return (int32_t)doubled >> 16;
}

__attribute__((noinline)) static int field_by_add(const struct node *n)
{
    uint32_t w = n->word;
    __asm__("add %0, %0" : "+r"(w));
    return (int32_t)w >> 16;
}

__attribute__((noinline)) static int low_bits(const struct node *n)
{
    uint32_t w = n->word;
    uint32_t doubled;
    __asm__("lea (%1,%1), %0" : "=r"(doubled) : "r"(w));
    return doubled & 0xfffe;
}

int main(void)
{
    struct node *n = malloc(sizeof *n);
    set_field(n, 1234);
    if (field(n) == 1234) puts("lea: 1234");
    if (field_by_add(n) == 1234) puts("add: 1234");
    if (low_bits(n) == 6) /* LINE_LOW */
        puts("low bits are 6");
    free(n);
    puts("done");
    return 0;
}
