/* Lane-exact shadows through movddup/movshdup/movsldup and the AVX-512 down-conversions
 * (vpmovdb truncating, vpmovsdb saturating): lanes 1 and 6 of the data were never set. A branch on
 * a result lane that came from defined lanes reports nothing; one on a lane that came from an
 * undefined lane reports. */
/* (Inline asm barriers keep each instruction from being folded into the next shuffle.) */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

volatile int taken;

__attribute__((noinline)) static void duplicates(const float *partly, const double *partly_d)
{
    __m128 v = _mm_loadu_ps(partly);           /* lanes 0, 2, 3 defined; lane 1 undefined */
    __m128 even = _mm_moveldup_ps(v);          /* movsldup: lanes 0,0,2,2 */
    __asm__ volatile("" : "+x"(even));         /* keeps the instruction: no folding into the shuffle */
    if (_mm_cvtss_f32(_mm_shuffle_ps(even, even, 3)) == 2.0f) puts("movsldup ok");
    __m128 odd = _mm_movehdup_ps(v);           /* movshdup: lanes 1,1,3,3 */
    __asm__ volatile("" : "+x"(odd));
    if (_mm_cvtss_f32(_mm_shuffle_ps(odd, odd, 2)) == 3.0f) puts("movshdup ok");
    if (_mm_cvtss_f32(odd) == 1.0f) /* LINE_MOVSHDUP */
        taken++;
    __m128d d = _mm_loadu_pd(partly_d);        /* lane 0 defined, lane 1 undefined */
    __m128d dup;                               /* movddup: lanes 0,0 (gcc -mavx emits vpermilpd for the intrinsic) */
    __asm__ volatile("vmovddup %1, %0" : "=x"(dup) : "x"(d));
    if (_mm_cvtsd_f64(_mm_unpackhi_pd(dup, dup)) == 5.0) puts("movddup ok");
}

__attribute__((noinline)) static void narrow(const int *partly)
{
    __m512i v = _mm512_loadu_si512(partly);    /* i, but lanes 1 and 6 undefined */
    __m128i bytes = _mm512_cvtepi32_epi8(v);   /* vpmovdb */
    if (_mm_extract_epi8(bytes, 2) == 2 && _mm_extract_epi8(bytes, 15) == 15) puts("vpmovdb ok");
    if (_mm_extract_epi8(bytes, 6) == 6) /* LINE_VPMOVDB */
        taken++;
    __m128i saturated = _mm512_cvtsepi32_epi8(v); /* vpmovsdb */
    if (_mm_extract_epi8(saturated, 3) == 3) puts("vpmovsdb ok");
    if (_mm_extract_epi8(saturated, 1) == 1) /* LINE_VPMOVSDB */
        taken++;
}

int main(void)
{
    float *f = malloc(4 * sizeof *f);
    f[0] = 0.0f, f[2] = 2.0f, f[3] = 3.0f;
    double *d = malloc(2 * sizeof *d);
    d[0] = 5.0;
    int *a = malloc(16 * sizeof *a);
    for (int i = 0; i < 16; i++)
        if (i != 1 && i != 6) a[i] = i;
    duplicates(f, d);
    narrow(a);
    free(f), free(d), free(a);
    puts("done");
    return 0;
}
