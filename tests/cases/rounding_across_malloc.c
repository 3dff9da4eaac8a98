/* The rounding mode (MXCSR) must survive a replaced malloc/free: the light call path skips XSAVE
 * (vector registers are caller-saved at a call) but keeps MXCSR and the x87 control word. */
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
    volatile double one = 1.0, three = 3.0;
    fesetround(FE_UPWARD);
    void *p = malloc(64);
    double up = one / three;
    free(p);
    fesetround(FE_DOWNWARD);
    p = malloc(64);
    double down = one / three;
    free(p);
    printf("%d %.20f %.20f\n", up > down, up, down);
    return 0;
}
