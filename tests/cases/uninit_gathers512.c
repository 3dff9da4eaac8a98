/* Definedness through AVX-512 gathers and scatters (vpgatherdd/vpscatterdd with a k mask): a table
 * whose elements 0-15 were set and 16-31 never were. Gathering defined elements reports nothing; a
 * branch on a lane that gathered an undefined element reports; a masked gather whose undefined
 * element is masked off reports nothing, and the same with it selected reports; a loop of masked
 * gathers over a tail reports once; a scatter moves the shadows: the element an undefined lane was
 * scattered to reports, one a defined lane was scattered to does not. (valgrind cannot run AVX-512.) */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

volatile int taken; /* what the undefined branches do: nothing printed */

/* Lanes of r equal to expected's where lanes has their bit (a compare into k, then an and with defined zeros). */
static int same(__m512i r, __m512i expected, unsigned lanes)
{
    return (_mm512_cmpeq_epi32_mask(r, expected) & lanes) == lanes;
}

static int lane(__m512i v, int i)
{
    int out[16];
    _mm512_storeu_si512(out, v);
    return out[i];
}

__attribute__((noinline)) static void gathers(const int *table)
{
    __m512i ramp = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m512i v = _mm512_i32gather_epi32(ramp, table, 4);
    puts(same(v, _mm512_setr_epi32(25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10), 0xffff) ? "defined gather ok" : "defined gather wrong");
    /* Lane 5 gathers element 20, never set. */
    v = _mm512_i32gather_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 20, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), table, 4);
    puts(same(v, _mm512_setr_epi32(10, 11, 12, 13, 14, 0, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25), 0xffdf) ? "other lanes ok" : "other lanes wrong");
    if (lane(v, 5) == 16) /* LINE_GATHER_UNDEF */
        taken++;
}

__attribute__((noinline)) static void masked(const int *table, __mmask16 k)
{
    /* Lane 9 would gather element 30: masked off, it keeps the source's 99. */
    __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 30, 10, 11, 12, 13, 14, 15);
    __m512i v = _mm512_mask_i32gather_epi32(_mm512_set1_epi32(99), k, idx, table, 4);
    puts(same(v, _mm512_setr_epi32(10, 11, 12, 13, 14, 15, 16, 17, 18, 99, 20, 21, 22, 23, 24, 25), 0xffff) ? "masked gather ok" : "masked gather wrong");
    if (lane(v, 9) == 98) /* masked off: defined */
        taken++;
    /* The same lane selected: undefined. */
    v = _mm512_mask_i32gather_epi32(_mm512_set1_epi32(99), (__mmask16)(k | 0x200), idx, table, 4);
    if (lane(v, 9) == 98) /* LINE_MASKED_ON */
        taken++;
}

/* Sums table[indices[i]] 16 at a time, the tail under a mask (as vectorized code does). */
__attribute__((noinline)) static int loop(const int *table, const int *indices, int n)
{
    __m512i sum = _mm512_setzero_si512();
    for (int i = 0; i < n; i += 16)
    {
        __mmask16 k = n - i >= 16 ? 0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512i idx = _mm512_maskz_loadu_epi32(k, indices + i);
        __m512i g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, table, 4);
        sum = _mm512_add_epi32(sum, g);
    }
    return _mm512_reduce_add_epi32(sum);
}

__attribute__((noinline)) static void scatter(int *out, const int *table)
{
    /* Lane 3 holds undefined element 17 and goes to out[7]; lane 2 (defined 12) goes to out[1]. */
    __m512i v = _mm512_i32gather_epi32(_mm512_setr_epi32(0, 1, 2, 17, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), table, 4);
    _mm512_mask_i32scatter_epi32(out, 0x000c, _mm512_setr_epi32(0, 0, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), v, 4);
}

int main(void)
{
    int *table = malloc(32 * sizeof *table);
    for (int i = 0; i < 16; i++) table[i] = 10 + i;
    gathers(table);
    masked(table, 0xfdff);
    int *indices = malloc(40 * sizeof *indices);
    for (int i = 0; i < 40; i++) indices[i] = i % 16;
    printf("defined loop %d\n", loop(table, indices, 37));
    indices[35] = 19; /* in the masked tail */
    if (loop(table, indices, 37) == 0) /* LINE_LOOP */
        taken++;
    int *out = calloc(8, sizeof *out);
    scatter(out, table);
    printf("scattered %d\n", out[1]);
    if (out[7] == 5) /* LINE_SCATTER_USE */
        taken++;
    free(out);
    free(indices);
    free(table);
    puts("done");
    return 0;
}
