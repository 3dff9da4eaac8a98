/* crash_kinds MODE: a program that dies of its own bad access or jump, one way per MODE. Under
 * memcheck each must be reported as an UNADDRESSABLE ACCESS with the full stack (the LINE_ markers
 * are where), then the death by the signal the program dies of natively. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>

typedef void (*function)(void);
static volatile function null_function;
static char *volatile nowhere;
static int *volatile null_int;
static unsigned char data_array[64] = { 0xc3 };           /* a ret, in a page without execute */

__attribute__((noinline)) static void level3(int *p) { *p = 42; /* LINE_LEVEL3 */ }
__attribute__((noinline)) static void level2(int *p) { level3(p); /* LINE_LEVEL2 */ __asm__ volatile(""); }
__attribute__((noinline)) static void level1(int *p) { level2(p); /* LINE_LEVEL1 */ __asm__ volatile(""); }

/* Writes n words: smash's own frame is above this one's, so the loop's variables are not hit. */
__attribute__((noinline)) static void fill(volatile long *p, int n)
{
    for (int i = 0; i < n; i++) p[i] = 0x4141414141414141;
}

static void on_segv(int signal) { (void)signal; _exit(7); }

__attribute__((noinline)) static int recurse(int depth)
{
    volatile char frame[64];
    frame[0] = (char)depth;
    return recurse(depth + 1) + frame[0];   /* LINE_RECURSE */
}

/* Under memcheck, its own executable's writable data is in this process: find it. */
static char *memcheck_data(void)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long start = 0, end;
    char perms[8];
    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3 && perms[1] == 'w' && strstr(line, "/memcheck\n"))
            return (char *)start;
    return NULL;
}

__attribute__((noinline)) static void smash(void)
{
    long buffer[2];
    fill(buffer, 8);   /* over the saved rbp and the return address */
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    printf("mode %s\n", mode);
    fflush(stdout);
    if (!strcmp(mode, "deep")) level1(null_int);   /* LINE_MAIN_DEEP */
    else if (!strcmp(mode, "strlen")) printf("%zu\n", strlen(nowhere));   /* LINE_STRLEN */
    else if (!strcmp(mode, "smash")) smash();
    else if (!strcmp(mode, "wild_call")) ((function)0x414141414141)();   /* LINE_WILD_CALL */
    else if (!strcmp(mode, "null_call")) null_function();   /* LINE_NULL_CALL */
    else if (!strcmp(mode, "prot_none")) {
        void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ((function)page)();   /* LINE_PROT_NONE */
    }
    else if (!strcmp(mode, "data")) ((function)(void *)data_array)();   /* LINE_DATA */
    /* A direct jmp whose rel32 wraps below address 0 (code lies below 2 GB under memcheck): the target is
       a kernel-half address, which a translation's exit must keep whole. */
    else if (!strcmp(mode, "wrapped_jmp")) { fflush(stdout); __asm__ volatile(".byte 0xe9\n.long -0x7fff0000\n"); }
    else if (!strcmp(mode, "rodata")) { char *s = (char *)"literal"; ((volatile char *)s)[0] = 'L'; /* LINE_RODATA */ }
    else if (!strcmp(mode, "recurse")) return recurse(0);
    else if (!strcmp(mode, "memalign_null")) printf("%d\n", posix_memalign((void **)null_int, 16, 16));   /* LINE_MEMALIGN */
    else if (!strcmp(mode, "handler")) { signal(SIGSEGV, on_segv); *null_int = 1; /* LINE_HANDLED */ }
    else if (!strcmp(mode, "pkey")) {
        /* A write to a page whose protection key denies writes (no protection keys: a null write). */
        int key = pkey_alloc(0, PKEY_DISABLE_WRITE);
        volatile char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (key < 0 || pkey_mprotect((void *)page, 4096, PROT_READ | PROT_WRITE, key) != 0) page = (volatile char *)null_int;
        page[8] = 1;   /* LINE_PKEY */
    }
    else if (!strcmp(mode, "below_stack")) { char here; ((volatile char *)&here)[-(1L << 30)] = 1; /* LINE_BELOW_STACK */ }
    else if (!strcmp(mode, "tool_memory")) {
        char *target = memcheck_data();
        if (target) *(volatile long *)target = 0x4141414141414141;   /* LINE_TOOL_MEMORY */
    }
    printf("survived %s\n", mode);
    return 0;
}
