/* Overflows inside the copy routines: memcpy of 11 bytes and strcpy of a 10-character string into
 * 10-byte heap blocks. The bad write happens inside memcheck's replacement memcpy/strcpy, so the
 * callstack runs through the routine to the marked call in main. Natively the 11th byte lies in
 * malloc's rounding slack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char digits[16] = "0123456789abcde";
static volatile size_t eleven = 11; /* not a constant: gcc must call memcpy, and cannot warn */

int main(void)
{
    char *copy = malloc(10); /* LINE_MEMCPY_ALLOC */
    memcpy(copy, digits, eleven); /* LINE_MEMCPY */
    char *text = malloc(11);
    memcpy(text, digits, 10);
    text[10] = '\0';
    const char *volatile source = text; /* hides the length from gcc's strlen folding */
    char *string = malloc(10); /* LINE_STRCPY_ALLOC */
    strcpy(string, source); /* LINE_STRCPY */
    for (int i = 0; i < 10; i++) putchar(copy[i]);
    putchar(' ');
    for (int i = 0; i < 10; i++) putchar(string[i]);
    putchar('\n');
    free(copy);
    free(text);
    free(string);
    return 0;
}
