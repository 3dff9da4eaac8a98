/* Gathers and scatters reaching past a heap block: each lane has its own address, so the check is
 * per lane. AVX2 gather with one lane one element beyond the end (reported), an AVX2 masked gather
 * whose out-of-bounds lane is masked off (not reported), and an AVX-512 masked scatter whose last
 * active lane writes one element beyond the end (reported). Natively the stray lanes land in
 * malloc's slack, so the program runs the same with and without memcheck. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) int gather_sum(const int *table, __m256i idx)
{
    __m256i v = _mm256_i32gather_epi32(table, idx, 4); /* LINE_GATHER */
    int out[8];
    _mm256_storeu_si256((__m256i *)out, v);
    int sum = 0;
    for (int i = 0; i < 8; i++) sum += out[i];
    return sum;
}

static __attribute__((noinline)) int masked_gather_sum(const int *table, __m256i idx, __m256i mask)
{
    __m256i v = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), table, idx, mask, 4);
    int out[8];
    _mm256_storeu_si256((__m256i *)out, v);
    int sum = 0;
    for (int i = 0; i < 8; i++) sum += out[i];
    return sum;
}

static __attribute__((noinline)) void scatter(long long *table, __m512i idx, __mmask8 k)
{
    _mm512_mask_i64scatter_epi64(table, k, idx, _mm512_set1_epi64(7), 8); /* LINE_SCATTER */
}

int main(void)
{
    int *table = malloc(10 * sizeof *table); /* LINE_TABLE_ALLOC */
    for (int i = 0; i < 10; i++) table[i] = i;
    __m256i in_bounds_but_last = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 10); /* lane 7: table[10] */
    int a = gather_sum(table, in_bounds_but_last);
    __m256i mask = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);         /* lane 7 off */
    int b = masked_gather_sum(table, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 1000), mask);
    long long *wide = malloc(8 * sizeof *wide); /* LINE_WIDE_ALLOC */
    scatter(wide, _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 8), 0x81);            /* lanes 0 and 7: wide[8] */
    printf("gather %d masked %d scattered %lld\n", a > 0, b, wide[0]);
    free(wide);
    free(table);
    return 0;
}
