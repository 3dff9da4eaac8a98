/* hello_static: the smallest end-to-end case. Built with gcc -static -O2.
 * Prints a greeting and its arguments, then exits with status 3 so that
 * exit status propagation is checked too. */
#include <stdio.h>

int main(int argc, char **argv)
{
    printf("hello from a static binary\n");
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    fflush(stdout);
    return 3;
}
