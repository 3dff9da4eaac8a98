/* null_deref: prints a line, flushes it, then reads through a NULL pointer.
 * The process must die of SIGSEGV (status 139 through a shell); under
 * memcheck, one "memcheck: " line names SIGSEGV and the faulting pc. */
#include <stdio.h>

/* volatile so the compiler can neither fold the load away nor turn it into
 * a trap instruction. */
static int *volatile null_pointer;

int main(void)
{
    printf("before null dereference\n");
    fflush(stdout);
    int value = *null_pointer; /* LINE_DEREF */
    printf("read %d (unreachable)\n", value);
    return 0;
}
