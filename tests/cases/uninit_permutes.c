/* Lane-exact shadows through the AVX2 permutes, inserts, extracts, packs, broadcasts and widening
 * moves: a vector whose lanes 4, 6 and 7 were never set goes through each instruction; a branch on
 * result lanes that came from defined lanes reports nothing, a branch on one that came from an
 * undefined lane (or that an undefined index picked) reports, at the line valgrind names. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

volatile int taken; /* what the undefined branches do: nothing printed */

/* All lanes equal to expected's where mask has their bit (a movemask of a compare is defined where both lanes are). */
static int same32(__m256i r, __m256i expected, unsigned lanes)
{
    unsigned bytes = 0;
    for (int i = 0; i < 8; i++)
        if (lanes >> i & 1) bytes |= 0xfu << (4 * i);
    return ((unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi32(r, expected)) & bytes) == bytes;
}

__attribute__((noinline)) static void permutes(const int *partly, const int *defined)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)partly); /* 10 11 12 13 ?? 15 ?? ?? */
    __m256i d = _mm256_loadu_si256((const __m256i *)defined);
    /* vpermd: defined lanes in every position; then lane 6 into lane 0. */
    __m256i r = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(5, 0, 3, 1, 2, 5, 0, 1));
    puts(same32(r, _mm256_setr_epi32(15, 10, 13, 11, 12, 15, 10, 11), 0xff) ? "vpermd ok" : "vpermd wrong");
    if (_mm256_cvtsi256_si32(_mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(6, 0, 0, 0, 0, 0, 0, 0))) == 16) /* LINE_VPERMD */
        taken++;
    /* vpermq: qwords 0 and 1 are defined, 2 (lanes 4-5) and 3 are not. */
    r = _mm256_permute4x64_epi64(v, _MM_SHUFFLE(0, 1, 0, 1));
    puts(same32(r, _mm256_setr_epi32(12, 13, 10, 11, 12, 13, 10, 11), 0xff) ? "vpermq ok" : "vpermq wrong");
    if (_mm256_cvtsi256_si32(_mm256_permute4x64_epi64(v, _MM_SHUFFLE(0, 1, 0, 3))) == 16) /* LINE_VPERMQ */
        taken++;
    /* vpermilps within each 128-bit lane: the high lane's element 1 (lane 5) is its only defined one. */
    r = _mm256_castps_si256(_mm256_permute_ps(_mm256_castsi256_ps(v), 0x55));
    puts(same32(r, _mm256_setr_epi32(11, 11, 11, 11, 15, 15, 15, 15), 0xff) ? "vpermilps ok" : "vpermilps wrong");
    r = _mm256_castps_si256(_mm256_permutevar_ps(_mm256_castsi256_ps(v), _mm256_setr_epi32(3, 2, 1, 0, 1, 1, 1, 1)));
    puts(same32(r, _mm256_setr_epi32(13, 12, 11, 10, 15, 15, 15, 15), 0xff) ? "vpermilps var ok" : "vpermilps var wrong");
    r = _mm256_castps_si256(_mm256_permute_ps(_mm256_castsi256_ps(v), 0x54));
    if (_mm256_extract_epi32(r, 4) == 16) /* LINE_VPERMILPS */
        taken++;
    /* vperm2i128: v's low half and d's high half; then v's high half low. */
    r = _mm256_permute2x128_si256(v, d, 0x30);
    puts(same32(r, _mm256_setr_epi32(10, 11, 12, 13, 5, 6, 7, 8), 0xff) ? "vperm2i128 ok" : "vperm2i128 wrong");
    if (_mm256_cvtsi256_si32(_mm256_permute2x128_si256(v, d, 0x21)) == 16) /* LINE_VPERM2I128 */
        taken++;
    /* vinserti128 of a defined half over the partly defined one; vextracti128 of the defined half. */
    r = _mm256_inserti128_si256(v, _mm256_castsi256_si128(d), 1);
    puts(same32(r, _mm256_setr_epi32(10, 11, 12, 13, 1, 2, 3, 4), 0xff) ? "vinserti128 ok" : "vinserti128 wrong");
    r = _mm256_inserti128_si256(d, _mm256_extracti128_si256(v, 1), 0);
    puts(same32(r, _mm256_setr_epi32(0, 15, 0, 0, 5, 6, 7, 8), 0xf2) ? "vextracti128 ok" : "vextracti128 wrong");
    if (_mm256_cvtsi256_si32(r) == 16) /* LINE_VINSERTI128 */
        taken++;
}

__attribute__((noinline)) static void narrowing_and_widening(const int *partly, const int *defined)
{
    __m256i v = _mm256_loadu_si256((const __m256i *)partly);
    __m256i d = _mm256_loadu_si256((const __m256i *)defined);
    /* vpackssdw: per lane, v's dwords then d's as words; only v's lanes 4, 6, 7 give undefined words (8, 10, 11). */
    __m256i p = _mm256_packs_epi32(v, d);
    unsigned defined_words = 0xffffffffu & ~(3u << 16) & ~(0xfu << 20);
    unsigned equal = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(p, _mm256_setr_epi16(10, 11, 12, 13, 1, 2, 3, 4, 0, 15, 0, 0, 5, 6, 7, 8)));
    puts((equal & defined_words) == defined_words ? "vpackssdw ok" : "vpackssdw wrong");
    if (_mm256_extract_epi16(p, 8) == 16) /* LINE_PACK */
        taken++;
    /* packuswb of words: 16 undefined bits in a word make one undefined byte. */
    __m128i w = _mm_packus_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    puts(_mm_extract_epi8(w, 4) == 12 && _mm_extract_epi8(w, 10) == 15 ? "packuswb ok" : "packuswb wrong");
    /* vpbroadcastd of a defined element; then of the undefined lane 4. */
    __m256i b = _mm256_broadcastd_epi32(_mm256_castsi256_si128(v));
    puts(same32(b, _mm256_set1_epi32(10), 0xff) ? "vpbroadcastd ok" : "vpbroadcastd wrong");
    b = _mm256_broadcastd_epi32(_mm256_extracti128_si256(v, 1));
    if (_mm256_extract_epi32(b, 7) == 16) /* LINE_BROADCAST */
        taken++;
    /* vpmovsxdq / vpmovzxwd: widened elements keep their shadows; lane 4's widened copy is undefined. */
    __m256i wide = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
    puts(_mm256_extract_epi64(wide, 1) == 15 ? "vpmovsxdq ok" : "vpmovsxdq wrong");
    if (_mm256_extract_epi64(wide, 0) == 16) /* LINE_WIDEN */
        taken++;
    __m256i words = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(v));
    puts(same32(words, _mm256_setr_epi32(10, 0, 11, 0, 12, 0, 13, 0), 0xff) ? "vpmovzxwd ok" : "vpmovzxwd wrong");
}

__attribute__((noinline)) static void element_inserts(const int *partly, const int *defined)
{
    __m128i d = _mm_loadu_si128((const __m128i *)defined);
    /* pinsrd of the undefined lane 4 into element 2: elements 0, 1, 3 stay defined. */
    __m128i x = _mm_insert_epi32(d, partly[4], 2);
    __asm__("" : "+x"(x)); /* element 2 is read back from the vector, not from the int inserted */
    int ok = _mm_extract_epi32(x, 0) == 1 && _mm_extract_epi32(x, 3) == 4;
    if (_mm_extract_epi32(x, 2) == 16) /* LINE_PINSRD */
        taken++;
    puts(ok ? "pinsrd ok" : "pinsrd wrong");
    /* insertps: element 1 of a partly defined vector into element 3, element 0 zeroed. */
    __m128 f = _mm_insert_ps(_mm_castsi128_ps(d), _mm_castsi128_ps(_mm_loadu_si128((const __m128i *)(partly + 4))), 0x71);
    __m128i fi = _mm_castps_si128(f);
    puts(_mm_extract_epi32(fi, 0) == 0 && _mm_extract_epi32(fi, 3) == 15 ? "insertps ok" : "insertps wrong");
}

int main(void)
{
    int *partly = malloc(8 * sizeof *partly);
    /* One vector store and one int store, checked as one merged check: lane 4 between them stays undefined. */
    for (int i = 0; i < 4; i++) partly[i] = 10 + i;
    partly[5] = 15;
    int defined[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    permutes(partly, defined);
    narrowing_and_widening(partly, defined);
    element_inserts(partly, defined);
    free(partly);
    puts("done");
    return 0;
}
