/* An undefined value held in a callee-saved register across a call (-O2 keeps v in rbp): the
 * callee pushes the register, uses it for its own defined values and pops it back. The pop must
 * bring the undefined value back, so the branch after the call is reported, as Valgrind does. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    int *p = malloc(16);
    p[1] = 2;
    int v = p[0];
    puts("call");
    if (v > 3) /* LINE_AFTER_CALL */
        puts("big");
    free(p);
    return 0;
}
