/* Heap overflows inside memcheck's replacement routines: strlen of an unterminated 8-byte block
 * reads past it, memcpy of 11 bytes from a 10-byte block too. The report must show the routine
 * as the libc function the program called (strlen, memcpy), then the marked line in main, and
 * nothing of memcheck's own (its library or its source file). Natively the bytes past the blocks
 * lie in malloc's rounding slack; nothing printed depends on them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t eleven = 11; /* not a constant: gcc must call memcpy, and cannot warn */

int main(void)
{
    char *word = malloc(8); /* LINE_STRLEN_ALLOC */
    memcpy(word, "abcdefgh", 8);
    const char *volatile unterminated = word;
    size_t length = strlen(unterminated); /* LINE_STRLEN */
    char *digits = malloc(10); /* LINE_MEMCPY_ALLOC */
    memcpy(digits, "0123456789", 10);
    char copy[16];
    memcpy(copy, digits, eleven); /* LINE_MEMCPY */
    printf("%d %c\n", length >= 8, copy[9]);
    free(word);
    free(digits);
    return 0;
}
