/* avx512_loop: explicit AVX-512 intrinsics (F, BW, VL) over arrays whose
 * lengths are not multiples of the vector width, so masked tails are used.
 * Built with gcc -O2 -mavx512f -mavx512bw -mavx512vl. Prints checksums. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 1003   /* not a multiple of 16 */

static float a[N], b[N], c[N], out[N];
static uint8_t bytes_a[N], bytes_b[N], bytes_out[N];

static __mmask16 tail_mask(int remaining)
{
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

int main(void)
{
    for (int i = 0; i < N; i++) {
        a[i] = (float)(i % 97) * 0.25f - 3.0f;
        b[i] = (float)((i * 7) % 31) * 0.5f + 1.0f;
        c[i] = (float)(i % 13) - 6.0f;
        bytes_a[i] = (uint8_t)(i * 11);
        bytes_b[i] = (uint8_t)(255 - i * 3);
    }

    /* out = a + b, then out = out * c + a (fused), masked tail. */
    __m512 vsum = _mm512_setzero_ps();
    int positive = 0;
    for (int i = 0; i < N; i += 16) {
        __mmask16 m = tail_mask(N - i);
        __m512 va = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, &a[i]);
        __m512 vb = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, &b[i]);
        __m512 vc = _mm512_mask_loadu_ps(_mm512_setzero_ps(), m, &c[i]);
        __m512 t = _mm512_add_ps(va, vb);
        __m512 r = _mm512_fmadd_ps(t, vc, va);
        _mm512_mask_storeu_ps(&out[i], m, r);
        vsum = _mm512_add_ps(vsum, r);
        /* k-mask compare: count positive results within the valid lanes */
        __mmask16 gt = _mm512_mask_cmp_ps_mask(m, r, _mm512_setzero_ps(), _CMP_GT_OQ);
        positive += __builtin_popcount((unsigned)gt);
    }
    float total = _mm512_reduce_add_ps(vsum);

    double scalar_check = 0.0;
    for (int i = 0; i < N; i++)
        scalar_check += (double)out[i] * (double)((i % 5) + 1);

    /* Masked blend: where a > c take a, else c; then reduce. */
    __m512 vmax = _mm512_set1_ps(-1e30f);
    for (int i = 0; i < N; i += 16) {
        __mmask16 m = tail_mask(N - i);
        __m512 va = _mm512_maskz_loadu_ps(m, &a[i]);
        __m512 vc = _mm512_maskz_loadu_ps(m, &c[i]);
        __mmask16 agt = _mm512_cmp_ps_mask(va, vc, _CMP_GT_OQ);
        __m512 pick = _mm512_mask_blend_ps(agt, vc, va);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, pick);
    }
    float maxval = _mm512_reduce_max_ps(vmax);

    /* AVX-512BW: saturating byte adds with a 64-bit mask tail. */
    uint64_t byte_sum = 0;
    for (int i = 0; i < N; i += 64) {
        int rem = N - i;
        __mmask64 m = rem >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << rem) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(m, &bytes_a[i]);
        __m512i y = _mm512_maskz_loadu_epi8(m, &bytes_b[i]);
        __m512i s = _mm512_adds_epu8(x, y);
        _mm512_mask_storeu_epi8(&bytes_out[i], m, s);
        __m512i sad = _mm512_sad_epu8(s, _mm512_setzero_si512());
        byte_sum += (uint64_t)_mm512_reduce_add_epi64(sad);
    }
    uint32_t byte_hash = 2166136261u;
    for (int i = 0; i < N; i++)
        byte_hash = (byte_hash ^ bytes_out[i]) * 16777619u;

    /* AVX-512VL: 256-bit masked operations on the same data. */
    __m256 acc256 = _mm256_setzero_ps();
    for (int i = 0; i + 8 <= N; i += 8) {
        __m256 va = _mm256_loadu_ps(&a[i]);
        __m256 vb = _mm256_loadu_ps(&b[i]);
        __mmask8 neg = _mm256_cmp_ps_mask(va, _mm256_setzero_ps(), _CMP_LT_OQ);
        acc256 = _mm256_mask_add_ps(acc256, neg, acc256, _mm256_mul_ps(va, vb));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, acc256);
    double vl_total = 0.0;
    for (int i = 0; i < 8; i++) vl_total += lanes[i];

    printf("avx512: n=%d total=%.3f weighted=%.3f positive=%d\n", N, total, scalar_check, positive);
    printf("avx512: max(a,c)=%.3f out[0]=%.3f out[%d]=%.3f\n", maxval, out[0], N - 1, out[N - 1]);
    printf("avx512bw: byte_sum=%llu byte_hash=%08x\n", (unsigned long long)byte_sum, byte_hash);
    printf("avx512vl: negative products=%.3f\n", vl_total);
    return 0;
}
