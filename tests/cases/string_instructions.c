/* String instructions checked over the elements they really touch: rep movsb with the direction
 * flag set (backwards), repe cmpsb and repne scasb (stop at a (mis)match, checked after they ran).
 * Clean: a backwards rep stosb inside a block (checked upwards it would run past the end), a
 * repe cmpsb with a huge count that stops at an early mismatch, a repne scasb that finds its byte.
 * Reported: a backwards copy that reads one byte before its source block, and a repe cmpsb that
 * compares one byte beyond a block (natively both land in malloc's metadata, harmlessly). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill_backwards(unsigned char *last, unsigned char value, size_t n)
{
    __asm__ volatile("std\n\trep stosb\n\tcld" : "+D"(last), "+c"(n) : "a"(value) : "memory", "cc");
}

static void copy_backwards(unsigned char *dst_last, const unsigned char *src_last, size_t n)
{
    __asm__ volatile("std\n\trep movsb\n\tcld" /* LINE_MOVS */
                     : "+D"(dst_last), "+S"(src_last), "+c"(n) : : "memory", "cc");
}

static size_t compare(const unsigned char *a, const unsigned char *b, size_t n)
{
    __asm__ volatile("repe cmpsb" /* LINE_CMPS */
                     : "+S"(a), "+D"(b), "+c"(n) : : "memory", "cc");
    return n;
}

static size_t find(const unsigned char *p, unsigned char byte, size_t n)
{
    __asm__ volatile("repne scasb" : "+D"(p), "+c"(n) : "a"(byte) : "memory", "cc");
    return n;
}

int main(void)
{
    unsigned char *block = malloc(64);
    fill_backwards(block + 63, 'x', 64);                    /* block[0..63] */
    unsigned char *src = malloc(16); /* LINE_SRC_ALLOC */
    memset(src, 's', 16);
    copy_backwards(block + 63, src + 15, 17);                /* reads src[-1] */
    unsigned char *a = malloc(16); /* LINE_A_ALLOC */
    unsigned char *b = malloc(32);
    memset(a, 'q', 16);
    memset(b, 'q', 32);
    b[16] = 0x7f;
    size_t left_clean = compare(a, b, 1000 + 0 * (b[4] = 'z'));  /* mismatch at a[4] */
    b[4] = 'q';
    size_t left_over = compare(a, b, 24);                    /* compares a[16] */
    size_t left_find = find(block, 'x', 64);
    printf("block %c%c%c clean %zu over %zu find %zu\n", block[0], block[48], block[63], left_clean, left_over, left_find);
    free(a);
    free(b);
    free(src);
    free(block);
    return 0;
}
