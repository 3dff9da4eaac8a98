/* A predicted return whose continuation's target was flushed. Generated code: f (page A) calls a
 * leaf h (page B) and returns the imm32 of the `mov eax, imm32` after the call. h's ret goes to
 * the latest call's return address, so it takes that call's continuation (ReturnPrediction). On
 * the second run h first rewrites that instruction in place (mprotect A RW, store, mprotect A RX,
 * raw syscalls: no call in between) and only then returns: the continuation, linked to the old
 * translation, must lead to the new code. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static unsigned char *put(unsigned char *p, const void *bytes, size_t n) { memcpy(p, bytes, n); return p + n; }
static unsigned char *put32(unsigned char *p, int32_t v) { return put(p, &v, 4); }
static int32_t rel(const unsigned char *from_end, const unsigned char *to) { return (int32_t)(to - from_end); }

int main(void)
{
    unsigned char *a = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (a == MAP_FAILED) return 1;
    unsigned char *b = a + 4096, *rewrite = b + 512, *value = b + 516;

    /* f: call h; mov eax, 1; ret */
    unsigned char *p = a;
    p = put(p, "\xe8", 1); p = put32(p, rel(p + 4, b));
    unsigned char *after_call = p;
    p = put(p, "\xb8", 1); p = put32(p, 1);
    p = put(p, "\xc3", 1);

    /* h (rdi = a): if (*rewrite) { mprotect(a, 4096, RW); *(int *)(after_call + 1) = *value; mprotect(a, 4096, RX); } ret */
    p = b;
    p = put(p, "\x80\x3d", 2); p = put32(p, rel(p + 5, rewrite)); p = put(p, "\x00", 1);   /* cmp byte [rip+rewrite], 0 */
    unsigned char *je = p; p = put(p, "\x74\x00", 2);                                        /* je done */
    p = put(p, "\xb8\x0a\x00\x00\x00", 5);                                                   /* mov eax, SYS_mprotect */
    p = put(p, "\xbe\x00\x10\x00\x00", 5);                                                   /* mov esi, 4096 */
    p = put(p, "\xba\x03\x00\x00\x00", 5);                                                   /* mov edx, PROT_READ|PROT_WRITE */
    p = put(p, "\x0f\x05", 2);                                                               /* syscall */
    p = put(p, "\x8b\x05", 2); p = put32(p, rel(p + 4, value));                              /* mov eax, [rip+value] */
    p = put(p, "\x89\x87", 2); p = put32(p, (int32_t)(after_call + 1 - a));                  /* mov [rdi+disp32], eax */
    p = put(p, "\xb8\x0a\x00\x00\x00", 5);                                                   /* mov eax, SYS_mprotect */
    p = put(p, "\xba\x05\x00\x00\x00", 5);                                                   /* mov edx, PROT_READ|PROT_EXEC */
    p = put(p, "\x0f\x05", 2);                                                               /* syscall */
    je[1] = (unsigned char)(p - (je + 2));
    p = put(p, "\xc3", 1);                                                                   /* done: ret */

    int (*f)(void *) = (int (*)(void *))a;
    for (int run = 0; run < 3; run++) printf("run %d: %d\n", run, f(a));
    *rewrite = 1;
    *(int32_t *)value = 42;
    printf("rewritten before the return: %d\n", f(a));
    *(int32_t *)value = 43;
    printf("rewritten again: %d\n", f(a));
    *rewrite = 0;
    printf("left alone: %d\n", f(a));
    return 0;
}
