/* Shadows that move with the data: interleaves and immediate shuffles keep each lane's definedness
 * (a branch on a defined lane reports nothing, one on an undefined lane does), and an equality
 * compare is defined when the operands already differ in a defined bit, as under Valgrind. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) static void lanes(const int *defined, const int *partly)
{
    __m128i a = _mm_loadu_si128((const __m128i *)defined);
    __m128i b = _mm_loadu_si128((const __m128i *)partly); /* lanes 0 and 1 set, 2 and 3 not */
    __m128i lo = _mm_unpacklo_epi32(a, b);                 /* a0 b0 a1 b1: all defined */
    __m128i hi = _mm_unpackhi_epi32(a, b);                 /* a2 b2 a3 b3 */
    if (_mm_cvtsi128_si32(_mm_shuffle_epi32(lo, 0x03)) == 11) puts("b1 is 11");
    if (_mm_cvtsi128_si32(_mm_shuffle_epi32(hi, 0x02)) == 3) puts("a3 is 3");
    if (_mm_cvtsi128_si32(_mm_shuffle_epi32(hi, 0x01)) == 7) /* LINE_LANE */
        puts("b2 is 7");
    /* shufps: lanes 0-1 from a (a1, a2), 2-3 from b (b0, b1): all defined. */
    __m128 mixed = _mm_shuffle_ps(_mm_castsi128_ps(a), _mm_castsi128_ps(b), _MM_SHUFFLE(1, 0, 2, 1));
    if (_mm_cvtsi128_si32(_mm_shuffle_epi32(_mm_castps_si128(mixed), 0x03)) == 11) puts("shuffled b1 is 11");
#ifdef __SSSE3__
    /* pshufb picking b's bytes 4..7 (b1) into lane 0, palignr shifting b1 down: both defined. */
    __m128i picked = _mm_shuffle_epi8(b, _mm_setr_epi8(4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
    if (_mm_cvtsi128_si32(picked) == 11) puts("picked b1 is 11");
    if (_mm_cvtsi128_si32(_mm_alignr_epi8(a, b, 4)) == 11) puts("aligned b1 is 11");
#else
    puts("picked b1 is 11");
    puts("aligned b1 is 11");
#endif
}

__attribute__((noinline)) static void words(const char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w); /* "ab" and its terminator, then 5 undefined bytes */
    if (w == 0x636261) puts("abc"); /* differs in a defined byte: defined */
    if (w == 0x6261) /* LINE_WORD */
        puts("ab");
}

int main(void)
{
    int defined[4] = {1, 2, 3, 4};
    int *partly = malloc(4 * sizeof *partly);
    partly[0] = 10;
    partly[1] = 11;
    lanes(defined, partly);
    char *s = malloc(8);
    memcpy(s, "ab", 3);
    words(s);
    free(s);
    free(partly);
    puts("done");
    return 0;
}
