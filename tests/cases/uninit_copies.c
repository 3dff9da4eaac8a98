/* Copies of partly undefined memory through a register, which the plain mode propagates where they
   are (a load into the register, stores of it, until it is written whole again) instead of
   switching modes: what was copied keeps its definedness byte for byte, a defined value stored
   over undefined bytes defines them, an overwrite defines the register, and a copied undefined
   value is reported where it is used, as Valgrind does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int sink;

struct record {
    long defined_a;
    long undefined_b;   /* never written */
    long defined_c;
    int low;            /* written */
    int high;           /* never written */
};

/* The memmove replacement's loop: qwords through rdx. */
__attribute__((noinline)) static void copy_qwords(struct record *dst, const struct record *src)
{
    __asm__ volatile("xorl %%eax, %%eax\n\t"
                     "1:\n\t"
                     "movq (%1,%%rax), %%rdx\n\t"
                     "movq %%rdx, (%0,%%rax)\n\t"
                     "addq $8, %%rax\n\t"
                     "cmpq $32, %%rax\n\t"
                     "jne 1b\n\t"
                     : : "r"(dst), "r"(src) : "rax", "rdx", "memory", "cc");
    if (dst->defined_a == 1 && dst->defined_c == 3 && dst->low == 4) /* no report */
        sink++;
    if (dst->undefined_b == 2) /* LINE_COPIED */
        sink++;
    if (dst->high == 5) /* LINE_COPIED_HIGH */
        sink++;
}

/* Copied, then the register zeroed: defined again, the copy in memory is not. */
__attribute__((noinline)) static void copy_then_overwrite(long *dst, const long *undefined)
{
    long r;
    __asm__ volatile("movq (%2), %0\n\t"
                     "movq %0, (%1)\n\t"
                     "xorl %k0, %k0\n\t"
                     : "=&r"(r) : "r"(dst), "r"(undefined) : "memory", "cc");
    if (r == 0) /* no report */
        sink++;
    if (*dst == 7) /* LINE_OVERWRITE_DST */
        sink++;
}

/* A defined value copied over bytes never written defines them. */
__attribute__((noinline)) static void defined_over_undefined(long *fresh, const long *defined)
{
    __asm__ volatile("movq (%1), %%rdx\n\t"
                     "movq %%rdx, (%0)\n\t"
                     : : "r"(fresh), "r"(defined) : "rdx", "memory");
    if (*fresh == 11) /* no report */
        sink++;
}

/* An 8-byte store across two shadow qwords (bytes 28..35 of a 32-aligned buffer). */
__attribute__((noinline)) static void copy_across(char *buffer, const char *src)
{
    __asm__ volatile("movq (%1), %%rdx\n\t"
                     "movq %%rdx, 28(%0)\n\t"
                     : : "r"(buffer), "r"(src) : "rdx", "memory");
    int low, high;
    memcpy(&low, buffer + 28, 4);
    memcpy(&high, buffer + 32, 4);
    if (low == 21) /* no report */
        sink++;
    if (high == 22) /* LINE_ACROSS */
        sink++;
}

/* A record's 16-byte halves through xmm registers (sort's merge of line records). */
__attribute__((noinline)) static void copy_vectors(struct record *dst, const struct record *src)
{
    __asm__ volatile("movdqu (%1), %%xmm2\n\t"
                     "movups %%xmm2, (%0)\n\t"
                     "movdqu 16(%1), %%xmm3\n\t"
                     "movups %%xmm3, 16(%0)\n\t"
                     : : "r"(dst), "r"(src) : "xmm2", "xmm3", "memory");
    if (dst->defined_a == 1) /* no report */
        sink++;
    if (dst->undefined_b == 2) /* LINE_VECTOR */
        sink++;
}

/* Loaded, then passed on: the callee's comparison sets a byte from undefined flags (no use yet);
   the caller's branch on it is reported, as Valgrind does. */
__attribute__((noinline)) static int use(long value)
{
    return value == 9;
}

__attribute__((noinline)) static void load_and_pass(const long *undefined)
{
    long r;
    __asm__ volatile("movq (%1), %0\n\t" : "=r"(r) : "r"(undefined));
    if (use(r)) /* LINE_USED */
        sink++;
}

int main(void)
{
    struct record *src = malloc(sizeof *src), *dst = malloc(sizeof *dst), *vdst = malloc(sizeof *vdst);
    src->defined_a = 1;
    src->defined_c = 3;
    src->low = 4;
    copy_qwords(dst, src);
    long *undefined = malloc(sizeof *undefined), *copy = malloc(sizeof *copy), *fresh = malloc(sizeof *fresh);
    copy_then_overwrite(copy, undefined);
    long defined = 11;
    defined_over_undefined(fresh, &defined);
    char *buffer = aligned_alloc(32, 64), *half = malloc(8);
    memcpy(half, &(int){21}, 4);
    copy_across(buffer, half);
    copy_vectors(vdst, src);
    load_and_pass(undefined);
    free(src);
    free(dst);
    free(vdst);
    free(undefined);
    free(copy);
    free(fresh);
    free(buffer);
    free(half);
    puts("done");
    return 0;
}
