/* SSE operations on a vector whose byte 0 is undefined (the rest defined zero), then a branch on a
 * bit of its low qword, as valgrind's memcheck decides it: shifts by an immediate move the shadow
 * with the bits (pslldq moves byte 0 away, psrlw brings defined bits onto bit 12), interleaves and
 * byte-wise ops keep it in its lanes; paddq's carry, psadbw's sum, pshufb's spread of byte 0 and a
 * conversion reach the tested bit and are reported, at the lines valgrind names. */
#include <stdio.h>
#include <stdlib.h>
#include <immintrin.h>
static volatile int sink;
/* xmm0 = 16 bytes: byte 0 undefined (from heap), rest defined zero */
#define V(name, asmop, test) \
  __attribute__((noinline)) static void name(unsigned char *p) { unsigned long r; \
    __asm__ volatile("pxor %%xmm0, %%xmm0\n\tpinsrb $0, (%1), %%xmm0\n\t" asmop "\n\tmovq %%xmm0, %0\n\t" : "=r"(r) : "r"(p) : "cc", "xmm0", "xmm1", "rax"); \
    if (r & (test)) sink++; }
V(v_paddb, "paddb %%xmm0, %%xmm0", 0x100)
V(v_paddw, "paddw %%xmm0, %%xmm0", 0x10000)
V(v_paddq, "pcmpeqd %%xmm1, %%xmm1\n\tpsrlq $63, %%xmm1\n\tpaddq %%xmm1, %%xmm0", 0x100000) /* LINE_PADDQ */
V(v_psubb, "pxor %%xmm1, %%xmm1\n\tpsubb %%xmm1, %%xmm0", 0x100)
V(v_pslldq, "pslldq $1, %%xmm0", 0x1)
V(v_psrlw, "psrlw $4, %%xmm0", 0x1000)
V(v_pmullw, "pcmpeqd %%xmm1, %%xmm1\n\tpsrlw $15, %%xmm1\n\tpmullw %%xmm1, %%xmm0", 0x10000)
V(v_pcmpeqb, "pxor %%xmm1, %%xmm1\n\tpcmpeqb %%xmm1, %%xmm0", 0x100)
V(v_pshufb, "pxor %%xmm1, %%xmm1\n\tpshufb %%xmm1, %%xmm0", 0x100) /* LINE_PSHUFB */
V(v_pmaxub, "pxor %%xmm1, %%xmm1\n\tpmaxub %%xmm1, %%xmm0", 0x100)
V(v_pavgb, "pxor %%xmm1, %%xmm1\n\tpavgb %%xmm1, %%xmm0", 0x100)
V(v_pmovmskb, "pmovmskb %%xmm0, %%eax\n\tmovd %%eax, %%xmm0", 0x2)
V(v_psadbw, "pxor %%xmm1, %%xmm1\n\tpsadbw %%xmm1, %%xmm0", 0x1000) /* LINE_PSADBW */
V(v_cvt, "cvtdq2ps %%xmm0, %%xmm0", 0x1) /* LINE_CVT */
V(v_unpck, "punpcklbw %%xmm0, %%xmm0", 0x10000)
int main(void)
{
    unsigned char *p = malloc(4);
    v_paddb(p); v_paddw(p); v_paddq(p); v_psubb(p); v_pslldq(p); v_psrlw(p); v_pmullw(p); v_pcmpeqb(p); v_pshufb(p);
    v_pmaxub(p); v_pavgb(p); v_pmovmskb(p); v_psadbw(p); v_cvt(p); v_unpck(p);
    free(p);
    puts("done");
    return 0;
}
