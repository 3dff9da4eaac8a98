/* Definedness through AVX2 gathers (vpgatherdd): a table whose elements 0-7 were set and 8-15 never
 * were. Gathering defined elements and branching on them reports nothing; a branch on a lane that
 * gathered an undefined element reports at the branch (as valgrind does); a masked gather whose
 * undefined element is masked off reports nothing; a loop of gathers reports once, at its branch,
 * when a later iteration gathers an undefined element; a gather with one lane past the block
 * (unaddressable) and one undefined lane reports the read once and the undefined lane at its use; an
 * undefined index element is a use of an undefined address, reported at the gather. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

volatile int taken; /* what the undefined branches do: nothing printed */

/* All lanes equal to expected's where lanes has their bit (an and with defined zeros is defined). */
static int same32(__m256i r, __m256i expected, unsigned lanes)
{
    unsigned bytes = 0;
    for (int i = 0; i < 8; i++)
        if (lanes >> i & 1) bytes |= 0xfu << (4 * i);
    return ((unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi32(r, expected)) & bytes) == bytes;
}

__attribute__((noinline)) static void bad_and_undefined(const int *table)
{
    /* Lane 0 reads element 16, past the 64-byte block; lane 1 reads element 10, never set. */
    __m256i v = _mm256_i32gather_epi32(table, _mm256_setr_epi32(16, 10, 2, 3, 4, 5, 6, 7), 4); /* LINE_BAD_GATHER */
    puts(same32(v, _mm256_setr_epi32(0, 0, 12, 13, 14, 15, 16, 17), 0xfc) ? "bad gather ok" : "bad gather wrong");
    if (_mm256_extract_epi32(v, 1) == 16) /* LINE_BAD_USE */
        taken++;
}

__attribute__((noinline)) static void gathers(const int *table)
{
    __m256i v = _mm256_i32gather_epi32(table, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0), 4);
    puts(same32(v, _mm256_setr_epi32(17, 16, 15, 14, 13, 12, 11, 10), 0xff) ? "defined gather ok" : "defined gather wrong");
    /* Lane 2 gathers element 9, never set; the other lanes are defined. */
    v = _mm256_i32gather_epi32(table, _mm256_setr_epi32(0, 1, 9, 3, 4, 5, 6, 7), 4);
    puts(same32(v, _mm256_setr_epi32(10, 11, 0, 13, 14, 15, 16, 17), 0xfb) ? "other lanes ok" : "other lanes wrong");
    if (_mm256_extract_epi32(v, 2) == 16) /* LINE_GATHER_UNDEF */
        taken++;
}

__attribute__((noinline)) static void masked(const int *table, __m256i mask)
{
    /* Lane 3 would gather element 12, but its mask lane is off: it keeps the source's 99. */
    __m256i v = _mm256_mask_i32gather_epi32(_mm256_set1_epi32(99), table, _mm256_setr_epi32(0, 1, 2, 12, 4, 5, 6, 7), mask, 4);
    puts(same32(v, _mm256_setr_epi32(10, 11, 12, 99, 14, 15, 16, 17), 0xff) ? "masked gather ok" : "masked gather wrong");
    if (_mm256_extract_epi32(v, 3) == 98) /* the masked-off lane: defined */
        taken++;
}

__attribute__((noinline)) static void undefined_index(const int *table, const int *raw)
{
    /* raw[4] was never set: lane 4's index (and-ed to 0-7, so the address stays in the table) is undefined. */
    __m256i idx = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)raw), _mm256_set1_epi32(7));
    __m256i v = _mm256_i32gather_epi32(table, idx, 4); /* LINE_INDEX_UNDEF */
    puts(same32(v, _mm256_setr_epi32(10, 11, 12, 13, 0, 15, 16, 17), 0xef) ? "undefined index ok" : "undefined index wrong");
}

__attribute__((noinline)) static void loop(const int *table, const int *indices, int n)
{
    for (int i = 0; i + 8 <= n; i += 8)
    {
        __m256i g = _mm256_i32gather_epi32(table, _mm256_loadu_si256((const __m256i *)(indices + i)), 4);
        if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(g, _mm256_setzero_si256())) == -1) /* LINE_LOOP */
            taken++;
    }
}

int main(void)
{
    int *table = malloc(16 * sizeof *table); /* LINE_TABLE_ALLOC */
    for (int i = 0; i < 8; i++) table[i] = 10 + i;
    bad_and_undefined(table); /* first: every register is defined, the gather runs in mode 0 */
    gathers(table);
    masked(table, _mm256_setr_epi32(-1, -1, -1, 0, -1, -1, -1, -1));
    int *raw = malloc(8 * sizeof *raw);
    for (int i = 0; i < 8; i++)
        if (i != 4) raw[i] = i;
    undefined_index(table, raw);
    free(raw);
    int *indices = malloc(32 * sizeof *indices);
    for (int i = 0; i < 32; i++) indices[i] = i % 8;
    indices[27] = 11; /* the fourth gather's lane 3: undefined */
    loop(table, indices, 32);
    printf("loop %d\n", taken);
    free(indices);
    free(table);
    puts("done");
    return 0;
}
