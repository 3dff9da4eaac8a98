/* Lane-exact shadows through AVX-512 permutes (one and two tables, masked), block inserts and
 * extracts, broadcasts and in-lane permutes: lanes 4, 9 and 14 of the data were never set. A branch
 * on result lanes that came from defined lanes reports nothing; one on a lane that came from an
 * undefined lane reports. (valgrind cannot run AVX-512: the lines follow the AVX2 case's rules.) */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

volatile int taken; /* what the undefined branches do: nothing printed */

/* Whether r equals expected in every lane of lanes (a compare into a k register is defined lane by lane). */
static int same(__m512i r, __m512i expected, unsigned lanes)
{
    return (_mm512_cmpeq_epi32_mask(r, expected) & lanes) == lanes;
}

static __m512i iota(int base)
{
    return _mm512_add_epi32(_mm512_set1_epi32(base), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

__attribute__((noinline)) static void one_table(const int *partly)
{
    __m512i v = _mm512_loadu_si512(partly); /* 100 + i, but lanes 4, 9 and 14 undefined */
    __m512i r = _mm512_permutexvar_epi32(_mm512_setr_epi32(15, 0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15, 0, 1), v);
    puts(same(r, _mm512_setr_epi32(115, 100, 101, 102, 103, 105, 106, 107, 108, 110, 111, 112, 113, 115, 100, 101), 0xffff) ? "vpermd ok" : "vpermd wrong");
    if (_mm512_cvtsi512_si32(_mm512_permutexvar_epi32(_mm512_set1_epi32(9), v)) == 9) /* LINE_VPERMD */
        taken++;
    /* vpermq by vector: qword 2 holds lane 4; by immediate within each 256-bit half. */
    r = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 3, 5, 6, 0, 1, 3), v);
    puts(same(r, _mm512_setr_epi32(100, 101, 102, 103, 106, 107, 110, 111, 112, 113, 100, 101, 102, 103, 106, 107), 0xffff) ? "vpermq ok" : "vpermq wrong");
    r = _mm512_permutex_epi64(v, _MM_SHUFFLE(1, 1, 3, 3));
    if (_mm512_cvtsi512_si32(_mm512_permutexvar_epi64(_mm512_set1_epi64(2), v)) == 4) /* LINE_VPERMQ */
        taken++;
    puts(same(r, _mm512_setr_epi32(106, 107, 106, 107, 102, 103, 102, 103, 0, 0, 0, 0, 110, 111, 110, 111), 0xf0ff) ? "vpermq imm ok" : "vpermq imm wrong");
    /* Masked: lanes the mask leaves keep the defined source; zero-masked ones are defined zeros. */
    __m512i defined = iota(0);
    r = _mm512_mask_permutexvar_epi32(defined, 0x00ff, _mm512_set1_epi32(0), v);
    puts(same(r, _mm512_setr_epi32(100, 100, 100, 100, 100, 100, 100, 100, 8, 9, 10, 11, 12, 13, 14, 15), 0xffff) ? "masked ok" : "masked wrong");
    r = _mm512_maskz_permutexvar_epi32(0x0f0f, _mm512_set1_epi32(4), v);
    puts(same(r, _mm512_setzero_si512(), 0xf0f0) ? "zero-masked ok" : "zero-masked wrong");
    if (_mm512_cvtsi512_si32(r) == 4) /* LINE_MASKED */
        taken++;
    /* vpermw: words 8 and 9 are lane 4. */
    r = _mm512_permutexvar_epi16(_mm512_set1_epi16(2), v);
    puts(same(r, _mm512_set1_epi32(101 << 16 | 101), 0xffff) ? "vpermw ok" : "vpermw wrong");
}

__attribute__((noinline)) static void two_tables(const int *partly)
{
    __m512i v = _mm512_loadu_si512(partly);
    __m512i d = iota(200);
    /* Index bit 4 picks the table: 16 + i is d's lane i. */
    __m512i index = _mm512_setr_epi32(0, 17, 2, 19, 3, 21, 5, 23, 6, 25, 7, 27, 8, 29, 10, 31);
    __m512i r = _mm512_permutex2var_epi32(v, index, d);
    puts(same(r, _mm512_setr_epi32(100, 201, 102, 203, 103, 205, 105, 207, 106, 209, 107, 211, 108, 213, 110, 215), 0xffff) ? "vpermt2d ok" : "vpermt2d wrong");
    /* mask2: the result merges into the index register (vpermi2d). */
    r = _mm512_mask2_permutex2var_epi32(v, index, 0x5555, d);
    puts(same(r, _mm512_setr_epi32(100, 17, 102, 19, 103, 21, 105, 23, 106, 25, 107, 27, 108, 29, 110, 31), 0xffff) ? "vpermi2d ok" : "vpermi2d wrong");
    if (_mm512_cvtsi512_si32(_mm512_permutex2var_epi32(d, _mm512_set1_epi32(30), v)) == 14) /* LINE_VPERMT2D */
        taken++;
}

__attribute__((noinline)) static void blocks(const int *partly)
{
    __m512i v = _mm512_loadu_si512(partly);
    __m512i d = iota(200);
    /* Lanes 0-3 are the only wholly defined 128-bit block: insert it over block 1, extract it. */
    __m512i r = _mm512_inserti32x4(d, _mm512_castsi512_si128(v), 1);
    puts(same(r, _mm512_setr_epi32(200, 201, 202, 203, 100, 101, 102, 103, 208, 209, 210, 211, 212, 213, 214, 215), 0xffff) ? "vinserti32x4 ok" : "vinserti32x4 wrong");
    __m128i b = _mm512_extracti32x4_epi32(v, 3);
    if (_mm_extract_epi32(b, 3) == 115) puts("lane 15 ok");
    if (_mm_extract_epi32(b, 2) == 14) /* LINE_EXTRACT */
        taken++;
    r = _mm512_inserti64x4(d, _mm512_extracti64x4_epi64(v, 0), 1);
    puts(same(r, _mm512_setr_epi32(200, 201, 202, 203, 204, 205, 206, 207, 100, 101, 102, 103, 0, 105, 106, 107), 0xefff) ? "vinserti64x4 ok" : "vinserti64x4 wrong");
    /* vbroadcasti32x4 of the defined block, vpbroadcastd of lane 9. */
    r = _mm512_broadcast_i32x4(_mm512_castsi512_si128(v));
    puts(same(r, _mm512_setr_epi32(100, 101, 102, 103, 100, 101, 102, 103, 100, 101, 102, 103, 100, 101, 102, 103), 0xffff) ? "vbroadcasti32x4 ok" : "vbroadcasti32x4 wrong");
    r = _mm512_broadcastd_epi32(_mm512_extracti32x4_epi32(v, 2));
    puts(same(r, _mm512_set1_epi32(108), 0xffff) ? "vpbroadcastd ok" : "vpbroadcastd wrong");
    /* vpermilps within 128-bit lanes: element 1 of each block is defined except in block 2 (lane 9). */
    r = _mm512_castps_si512(_mm512_permute_ps(_mm512_castsi512_ps(v), 0x55));
    puts(same(r, _mm512_setr_epi32(101, 101, 101, 101, 105, 105, 105, 105, 0, 0, 0, 0, 113, 113, 113, 113), 0xf0ff) ? "vpermilps ok" : "vpermilps wrong");
    if (_mm512_cvtsi512_si32(_mm512_castsi128_si512(_mm512_extracti32x4_epi32(r, 2))) == 9) /* LINE_VPERMILPS */
        taken++;
}

int main(void)
{
    int *partly = malloc(16 * sizeof *partly);
    for (int i = 0; i < 16; i++)
        if (i != 4 && i != 9 && i != 14) partly[i] = 100 + i;
    one_table(partly);
    two_tables(partly);
    blocks(partly);
    free(partly);
    puts("done");
    return 0;
}
