/* Lane-exact shadows through vpcompressd/vpexpandd (lanes 3 and 9 of the data never set) and the
 * addressability of a compress store, which writes the first popcount(mask) elements whatever bits
 * the mask sets: two elements into a 2-int block are clean, three overflow it. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
volatile int taken;
__attribute__((noinline)) static void compress(const int *partly, int *out)
{
    __m512i v = _mm512_loadu_si512(partly);           /* lanes 3 and 9 undefined */
    __m512i packed = _mm512_maskz_compress_epi32(0xfdf7, v); /* drops lanes 3 and 9 */
    int lanes[16];
    _mm512_storeu_si512(lanes, packed);
    if (lanes[3] == 4 && lanes[13] == 15 && lanes[14] == 0) puts("vpcompressd ok");
    _mm512_mask_compressstoreu_epi32(out, 0x0208, v);  /* lanes 3 and 9 to out[0], out[1] */
    if (out[0] == 3) /* LINE_COMPRESS_STORE */
        taken++;
    if (out[2] == 7) puts("compress store ok");
    __m512i spread = _mm512_maskz_expand_epi32(0xff00, v); /* v's lanes 0..7 to lanes 8..15 */
    _mm512_storeu_si512(lanes, spread);
    if (lanes[8] == 0 && lanes[0] == 0 && lanes[10] == 2) puts("vpexpandd ok");
    if (lanes[11] == 3) /* LINE_EXPAND */
        taken++;
    int *two = malloc(2 * sizeof *two);
    _mm512_mask_compressstoreu_epi32(two, 0x8001, v);
    if (two[0] == 0 && two[1] == 15) puts("two elements ok");
    _mm512_mask_compressstoreu_epi32(two, 0x8011, v); /* LINE_OVERFLOW */
    free(two);
}
int main(void)
{
    int *a = malloc(16 * sizeof *a), *out = malloc(4 * sizeof *out);
    for (int i = 0; i < 16; i++) if (i != 3 && i != 9) a[i] = i;
    out[2] = 7;
    compress(a, out);
    free(a); free(out);
    puts("done");
    return 0;
}
