/* AVX masked loads and stores (vmaskmovps): only the lanes the mask vector selects are accessed.
 * On a 20-byte block (5 floats) a mask of 5 lanes is clean, although the 32-byte operand reaches
 * past the end; a mask of 6 lanes stores one float beyond the block (natively into malloc's slack). */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) float store_and_load(float *f, __m256i mask, float value)
{
    _mm256_maskstore_ps(f, mask, _mm256_set1_ps(value)); /* LINE_MASKSTORE */
    __m256 v = _mm256_maskload_ps(f, mask);              /* LINE_MASKLOAD */
    float out[8];
    _mm256_storeu_ps(out, v);
    return out[0] + out[4];
}

int main(void)
{
    float *f = malloc(5 * sizeof *f); /* LINE_ALLOC */
    float clean = store_and_load(f, _mm256_setr_epi32(-1, -1, -1, -1, -1, 0, 0, 0), 1.5f);
    float over = store_and_load(f, _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0), 2.5f);
    printf("clean %.1f over %.1f\n", clean, over);
    free(f);
    return 0;
}
