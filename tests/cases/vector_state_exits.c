/* The guest's vector and x87 state across exits to the dispatcher (a system call leaves the cache):
 * xmm0-15 and the ymm upper halves come back as they were, whether the exit keeps them by hand (only
 * SSE/AVX state in use) or by XSAVE (x87 state in use too: a value left on the x87 stack across
 * the call), and upper halves that were clean (VEX.128 loads) stay zero. Rounds alternate the
 * three, so each kind of exit follows the others. Prints one line per kind with the rounds that
 * came back intact (VectorStateExits test). */
#include <stdio.h>
#include <string.h>

static unsigned char in[16][32] __attribute__((aligned(32))), out[16][32] __attribute__((aligned(32)));

#define LOAD_Y(n) "vmovdqu " #n "*32(%[in]), %%ymm" #n "\n\t"
#define STORE_Y(n) "vmovdqu %%ymm" #n ", " #n "*32(%[out])\n\t"
#define LOAD_X(n) "vmovdqu " #n "*32(%[in]), %%xmm" #n "\n\t"
#define ALL(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11) m(12) m(13) m(14) m(15)
#define CLOBBERS "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
    "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"

/* ymm0-15 loaded whole, getpid, stored back. */
static void whole(void)
{
    __asm__ volatile(ALL(LOAD_Y) "mov $39, %%eax\n\tsyscall\n\t" ALL(STORE_Y) "vzeroupper\n\t"
                     : : [in] "r"(in), [out] "r"(out) : CLOBBERS);
}

/* xmm0-15 only after vzeroupper (the upper halves clean, zero), getpid, ymm0-15 stored back. */
static void lower(void)
{
    __asm__ volatile("vzeroupper\n\t" ALL(LOAD_X) "mov $39, %%eax\n\tsyscall\n\t" ALL(STORE_Y) "vzeroupper\n\t"
                     : : [in] "r"(in), [out] "r"(out) : CLOBBERS);
}

/* ymm0-15 whole and pi on the x87 stack across getpid: the x87 value comes back too. */
static long double with_x87(void)
{
    long double pi;
    __asm__ volatile("fldpi\n\t" ALL(LOAD_Y) "mov $39, %%eax\n\tsyscall\n\t" ALL(STORE_Y) "vzeroupper\n\t"
                     "fstpt %[pi]\n\t"
                     : [pi] "=m"(pi) : [in] "r"(in), [out] "r"(out) : CLOBBERS);
    return pi;
}

int main(void)
{
    int intact[3] = {0, 0, 0}, pi_intact = 0;
    long double pi;
    __asm__ volatile("fldpi\n\tfstpt %0" : "=m"(pi));
    for (int round = 0; round < 300; round++) {
        for (int r = 0; r < 16; r++)
            for (int b = 0; b < 32; b++) in[r][b] = (unsigned char)(round * 31 + r * 7 + b * 13 + 1);
        memset(out, 0, sizeof out);
        int kind = round % 3;
        if (kind == 0) whole();
        else if (kind == 1) lower();
        else if (with_x87() == pi) pi_intact++;
        int ok = 1;
        for (int r = 0; r < 16; r++) {
            if (memcmp(out[r], in[r], 16) != 0) ok = 0;
            for (int b = 16; b < 32; b++)
                if (out[r][b] != (kind == 1 ? 0 : in[r][b])) ok = 0;
        }
        intact[kind] += ok;
    }
    printf("whole ymm: %d of 100\n", intact[0]);
    printf("xmm with clean upper halves: %d of 100\n", intact[1]);
    printf("ymm with x87 in use: %d of 100, pi %d of 100\n", intact[2], pi_intact);
    return 0;
}
