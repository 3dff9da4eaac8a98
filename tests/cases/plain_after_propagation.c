/* A compare of an undefined int (reported) runs in the propagating mode; once the call after it
   has returned, every register and the flags are defined again, so the code after it goes on in
   the plain mode, not in guarded copies of its blocks. Twenty such sites, each run three times
   (the second time through, its exits are linked). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noipa)) static unsigned one(unsigned v) { return v * 3 + 1; }
__attribute__((noipa)) static unsigned two(unsigned v) { return v / 2; }
__attribute__((noipa)) static unsigned after(unsigned v, unsigned n)
{
    if (v & 1) v = v * 3 + n; else v = v / 2 + n;
    return v;
}

#define SITE(n)                                                            \
    __attribute__((noipa)) static unsigned site##n(const int *p, unsigned v) \
    {                                                                      \
        if (*p == (int)v) v = one(v); else v = two(v);                     \
        if (v & 2) v = after(v, n); else v = after(v + 1, n);              \
        return v + n;                                                      \
    }
SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7) SITE(8) SITE(9) SITE(10)
SITE(11) SITE(12) SITE(13) SITE(14) SITE(15) SITE(16) SITE(17) SITE(18) SITE(19) SITE(20)

int main(int argc, char **argv)
{
    (void)argv;
    int *p = malloc(sizeof *p);   /* never written: *p is undefined */
    unsigned v = 0;
    for (int round = 0; round < 3; round++) {
        unsigned a = (unsigned)argc + (unsigned)round;
        v += site1(p, a) + site2(p, a) + site3(p, a) + site4(p, a) + site5(p, a);
        v += site6(p, a) + site7(p, a) + site8(p, a) + site9(p, a) + site10(p, a);
        v += site11(p, a) + site12(p, a) + site13(p, a) + site14(p, a) + site15(p, a);
        v += site16(p, a) + site17(p, a) + site18(p, a) + site19(p, a) + site20(p, a);
    }
    printf("v %u\n", v);
    free(p);
    return 0;
}
