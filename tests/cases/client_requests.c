/* Valgrind's client requests one by one, each answer printed: RUNNING_ON_VALGRIND, requests no one
 * knows (they answer their default), CHECK_MEM_IS_DEFINED/ADDRESSABLE (an error at the request's
 * line and the first bad byte), MAKE_MEM_NOACCESS/UNDEFINED/DEFINED(_IF_ADDRESSABLE),
 * COUNT_ERRORS, DISABLE/ENABLE_ERROR_REPORTING around a bad read, CREATE_BLOCK/DISCARD,
 * GET/SET_VBITS, PRINTF and PRINTF_BACKTRACE, and leak checks while it runs (DO_LEAK_CHECK,
 * DO_ADDED_LEAK_CHECK, COUNT_LEAKS). Natively every request answers its default: 0, or what the
 * program passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>

static void *volatile sink;

static __attribute__((noinline)) void lose(size_t size)
{
    char *lost = malloc(size); /* LINE_LOST */
    memset(lost, 1, size);
    sink = lost;
    sink = 0;
}

static __attribute__((noinline)) void lose_more(void)
{
    char *lost = malloc(64); /* LINE_LOST_MORE */
    memset(lost, 2, 64);
    sink = lost;
    sink = 0;
}

/* The leak checks must not find the lost pointers in a dead frame below the stack pointer (Valgrind
 * scans the 128-byte red zone) or left in a caller-saved register. */
static __attribute__((noinline)) void scrub(void)
{
    volatile char pad[1024];
    memset((char *)pad, 0, sizeof pad);
    __asm__ volatile("xor %%eax, %%eax; xor %%ecx, %%ecx; xor %%edx, %%edx; xor %%esi, %%esi; xor %%edi, %%edi;"
                     "xor %%r8d, %%r8d; xor %%r9d, %%r9d; xor %%r10d, %%r10d; xor %%r11d, %%r11d"
                     ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

static long offset(unsigned long bad, const char *base) { return bad ? (long)(bad - (unsigned long)base) : -1; }

int main(void)
{
    printf("running on valgrind: %u\n", RUNNING_ON_VALGRIND);
    unsigned long tool_unknown = VALGRIND_DO_CLIENT_REQUEST_EXPR(1234, VG_USERREQ_TOOL_BASE('M', 'C') + 0xff, 1, 2, 3, 4, 5);
    unsigned long core_unknown = VALGRIND_DO_CLIENT_REQUEST_EXPR(5678, VG_USERREQ_TOOL_BASE('Z', 'Z') + 1, 1, 2, 3, 4, 5);
    printf("unknown requests: %lu %lu\n", tool_unknown, core_unknown);

    char *buf = malloc(16);
    printf("undefined at %ld\n", offset(VALGRIND_CHECK_MEM_IS_DEFINED(buf, 16), buf)); /* LINE_CHECK_FRESH */
    memset(buf, 0, 8);
    printf("undefined at %ld\n", offset(VALGRIND_CHECK_MEM_IS_DEFINED(buf, 16), buf)); /* LINE_CHECK_HALF */
    printf("unaddressable at %ld\n", offset(VALGRIND_CHECK_MEM_IS_ADDRESSABLE(buf, 20), buf)); /* LINE_CHECK_PAST */
    VALGRIND_MAKE_MEM_NOACCESS(buf + 4, 4);
    printf("unaddressable at %ld\n", offset(VALGRIND_CHECK_MEM_IS_ADDRESSABLE(buf, 8), buf)); /* LINE_CHECK_NOACCESS */
    VALGRIND_MAKE_MEM_DEFINED(buf, 16);
    printf("defined: %ld\n", offset(VALGRIND_CHECK_MEM_IS_DEFINED(buf, 16), buf));
    VALGRIND_MAKE_MEM_UNDEFINED(buf + 12, 2);
    printf("undefined at %ld\n", offset(VALGRIND_CHECK_MEM_IS_DEFINED(buf, 16), buf)); /* LINE_CHECK_UNDEFINED */
    VALGRIND_MAKE_MEM_DEFINED_IF_ADDRESSABLE(buf, 24);
    printf("addressable after: %ld\n", offset(VALGRIND_CHECK_MEM_IS_ADDRESSABLE(buf, 16), buf));

    unsigned char vbits[4] = {0};
    unsigned long got = VALGRIND_GET_VBITS(buf + 10, vbits, 4);
    printf("get vbits %lu: %02x %02x %02x %02x\n", got, vbits[0], vbits[1], vbits[2], vbits[3]);
    unsigned char undefined_low[2] = {0x0f, 0xff};
    unsigned long set = VALGRIND_SET_VBITS(buf + 2, undefined_low, 2);
    printf("set vbits %lu: undefined at %ld\n", set, offset(VALGRIND_CHECK_MEM_IS_DEFINED(buf, 4), buf)); /* LINE_CHECK_VBITS */

    unsigned errors = VALGRIND_COUNT_ERRORS;
    printf("errors so far: %u\n", errors);
    volatile char *past = buf;
    VALGRIND_DISABLE_ERROR_REPORTING;
    char hidden = past[17];
    printf("errors while disabled: %u\n", VALGRIND_COUNT_ERRORS - errors);
    VALGRIND_ENABLE_ERROR_REPORTING;
    char shown = past[18]; /* LINE_READ_ENABLED */
    printf("errors after enabling: %u\n", VALGRIND_COUNT_ERRORS - errors);

    unsigned long handle = VALGRIND_CREATE_BLOCK(buf + 8, 8, "the tail of buf");
    VALGRIND_MAKE_MEM_NOACCESS(buf + 8, 8);
    char described = past[9]; /* LINE_READ_DESCRIBED */
    unsigned long discarded = VALGRIND_DISCARD(handle);
    printf("discard %lu, again %lu\n", discarded, (unsigned long)VALGRIND_DISCARD(handle));

    int printed = VALGRIND_PRINTF("printf %d %5s|%-4x|%lu %c %% %p %.2f\n", -42, "ab", 255, 123456789012UL, 'z', (void *)0x1234, 2.5);
    printf("printf returned %d\n", printed);
    VALGRIND_PRINTF_BACKTRACE("backtrace from %s\n", "main"); /* LINE_BACKTRACE */

    lose(24);
    scrub();
    VALGRIND_DO_LEAK_CHECK;
    unsigned long leaked = 7, dubious = 7, reachable = 7, suppressed = 7;
    VALGRIND_COUNT_LEAKS(leaked, dubious, reachable, suppressed);
    printf("leaked %lu dubious %lu suppressed %lu\n", leaked, dubious, suppressed);
    VALGRIND_COUNT_LEAK_BLOCKS(leaked, dubious, reachable, suppressed);
    printf("leaked blocks %lu\n", leaked);
    lose_more();
    scrub();
    VALGRIND_DO_ADDED_LEAK_CHECK;
    VALGRIND_DO_QUICK_LEAK_CHECK;

    printf("read %d %d %d\n", hidden, shown, described);
    VALGRIND_MAKE_MEM_DEFINED(buf, 16);
    free(buf);
    return 0;
}
