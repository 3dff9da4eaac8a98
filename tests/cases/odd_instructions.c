/* Instructions the translator treats specially: loop/loope/jrcxz (rel8-only branches), ret imm16,
 * fs-relative loads with base and index, and rdfsbase (the guest's fs base, not the host's). */
#include <stdio.h>

static long loop_sum(long n)
{
    long r = 0;
    __asm__ volatile("1: add $2, %0\n\t loop 1b" : "+r"(r), "+c"(n) : : "cc");
    return r;
}

static long loope_count(long n)
{
    long r = 0;
    /* counts down while ZF stays set (cmp equal), at most n times */
    __asm__ volatile("1: inc %0\n\t cmp %0, %0\n\t loope 1b" : "+r"(r), "+c"(n) : : "cc");
    return r;
}

static long jrcxz_pick(long c)
{
    long r;
    __asm__ volatile("mov $7, %0\n\t jrcxz 1f\n\t mov $9, %0\n 1:" : "=&r"(r) : "c"(c));
    return r;
}

static long ret_imm(void)
{
    long r;
    /* push a dummy word, call a stub that returns popping it with ret $8 */
    __asm__ volatile("push $5\n\t call 2f\n\t jmp 3f\n 2: mov (%%rsp), %0\n\t mov 8(%%rsp), %0\n\t ret $8\n 3:"
                     : "=&r"(r) : : "memory");
    return r;
}

static unsigned long fs_self_indexed(void)
{
    unsigned long v, zero = 0, base = 0;
    __asm__ volatile("mov %%fs:(%1,%2,8), %0" : "=r"(v) : "r"(base), "r"(zero));
    return v;
}

int main(void)
{
    printf("loop %ld loope %ld jrcxz %ld/%ld ret_imm %ld\n", loop_sum(21), loope_count(6), jrcxz_pick(0), jrcxz_pick(3), ret_imm());
    unsigned long self;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(self));
    printf("fs self pointer consistent: %d\n", self == fs_self_indexed());
    unsigned long fsbase = 0;
    __asm__ volatile("rdfsbase %0" : "=r"(fsbase));
    printf("rdfsbase equals fs:0: %d\n", fsbase == self);
    return 0;
}
