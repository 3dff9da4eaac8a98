/* The program's floating-point exception flags (MXCSR's sticky bits) must be as it left them
 * after a replaced malloc/free: memcheck runs the replacement from the code cache with the guest's
 * MXCSR in force and puts it back afterwards. Also a loop of calls, for --stats to count. */
#include <fenv.h>
#include <stdio.h>
#include <stdlib.h>

static int calls(void) {
    int sum = 0;
    for (int i = 0; i < 1000; i++) {
        char *volatile p = malloc(16 + i % 100);
        p[0] = (char)i;
        sum += p[0] & 1;
        free(p);
    }
    return sum;
}

int main(void) {
    volatile double one = 1.0, three = 3.0, zero = 0.0;
    feclearexcept(FE_ALL_EXCEPT);
    volatile double third = one / three;   /* inexact */
    volatile double inf = one / zero;      /* division by zero */
    int sum = calls();
    int raised = fetestexcept(FE_INEXACT | FE_DIVBYZERO) == (FE_INEXACT | FE_DIVBYZERO);
    feclearexcept(FE_ALL_EXCEPT);
    sum += calls();
    int clear = fetestexcept(FE_ALL_EXCEPT) == 0;
    printf("raised %d clear %d sum %d (%g %g)\n", raised, clear, sum, third, inf);
    return 0;
}
