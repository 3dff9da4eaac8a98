/* The plain mode keeps general registers defined (DefinednessMode.Plain): a copy through a general
 * register that meets undefined bytes leaves for the guarded mode at that instruction, and the
 * thread comes back to the plain mode at an indirect branch once its registers are defined again.
 * 8-byte records whose last 7 bytes were never written are copied 100,000 times through rax by a
 * function called through a pointer; then an undefined int decides a branch (reported here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

struct rec { char tag; char pad[7]; };

__attribute__((noinline)) static void copy_rec(struct rec *dst, const struct rec *src)
{
    uint64_t word;
    memcpy(&word, src, sizeof word);   /* mov rax, [rsi]: 7 undefined bytes */
    memcpy(dst, &word, sizeof word);   /* mov [rdi], rax */
}

int main(void)
{
    enum { N = 1000 };
    struct rec *a = malloc(sizeof *a * N), *b = malloc(sizeof *b * N);
    for (int i = 0; i < N; i++) a[i].tag = (char)('a' + i % 26);
    void (*volatile copy)(struct rec *, const struct rec *) = copy_rec;
    long sum = 0;
    for (int round = 0; round < 100; round++)
        for (int i = 0; i < N; i++) {
            copy(&b[i], &a[i]);
            sum += b[i].tag;
        }
    printf("sum %ld\n", sum);
    int *u = malloc(sizeof(int) * 4);
    u[0] = 1;
    if (u[2] > 0)   /* UNINITIALIZED: line 35 */
        puts("positive");
    else
        puts("not positive");
    free(u);
    free(a);
    free(b);
    return 0;
}
