/* Large operands: fxsave stores 512 bytes in one instruction, checked as a whole (a 508-byte block
 * is 4 bytes short; natively they land in malloc's slack); xsave, whose area size follows the
 * feature mask, into a block large enough: nothing to report. */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    unsigned char *small = aligned_alloc(16, 508); /* LINE_ALLOC */
    _fxsave64(small); /* LINE_FXSAVE */
    unsigned char *area = aligned_alloc(64, 4096);
    memset(area, 0, 4096);
    _xsave64(area, 3);   /* x87 and SSE state */
    printf("mxcsr %s xstate_bv %d\n", (small[24] | small[25] << 8) ? "saved" : "zero", area[512] & 3);
    free(area);
    free(small);
    return 0;
}
