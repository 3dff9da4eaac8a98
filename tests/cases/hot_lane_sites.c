/*
 * Two access sites that enter their exact-lane test far more than 4,096 times (a 2-byte compare
 * and a 2-byte store beside never-written padding, so the shadow window the inline check reads is not
 * clean), which gets each a test of its own in a fresh translation: afterwards the same sites must
 * still report an overflow, an undefined read and nothing for a defined one.
 */
#include <stdio.h>
#include <stdlib.h>

struct rec {
    short key;
    char never_written[6];
};

static volatile int taken;

__attribute__((noinline)) int is_five(const struct rec *r, int i)
{
    if (r[i].key == 5)   /* LINE_FIVE: a branch (a bare sete would be no use) */
    {
        taken++;
        return 1;
    }
    return 0;
}

__attribute__((noinline)) void set_key(struct rec *r, int i, short v)
{
    r[i].key = v;   /* LINE_SET */
}

int main(void)
{
    enum { N = 8192 };
    struct rec *r = malloc(N * sizeof *r);
    for (int i = 0; i < N; i++) set_key(r, i, (short)(i & 0x7fff));
    int fives = 0;
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < N; i++) fives += is_five(r, i);
    printf("fives %d\n", fives);

    printf("past %d\n", is_five(r, N));   /* one past the end: the load reads the redzone */
    set_key(r, N, 1);                      /* and the store writes it */

    struct rec *fresh = malloc(sizeof *fresh);
    printf("fresh %d\n", is_five(fresh, 0));   /* never written */
    set_key(fresh, 0, 5);
    printf("set %d\n", is_five(fresh, 0));
    free(fresh);
    free(r);
    return 0;
}
