/* syscall()'s seventh C argument (the call's sixth) travels on the stack, and an int there is
   stored with 4 bytes: the slot's upper half stays as it was. The kernel reads futex's val3 as a
   u32, so only the low half must be defined (Chromium's FUTEX_WAIT_BITSET calls); a val3 whose
   low half is undefined is still reported. */
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline)) static long wake(int *word, unsigned bitset)
{
    return syscall(SYS_futex, word, FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, bitset);   /* LINE_CALL */
}

int main(void)
{
    int word = 0;
    unsigned *undefined = malloc(sizeof *undefined);
    long woken = wake(&word, 0xffffffffu);          /* LINE_DEFINED */
    woken += wake(&word, 0x1u);                      /* LINE_DEFINED_TOO */
    woken += wake(&word, *undefined | 1u);           /* LINE_UNDEFINED */
    printf("woken %ld\n", woken);
    free(undefined);
    return 0;
}
