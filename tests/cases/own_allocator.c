/* A program with its own malloc family (as chromium has PartitionAlloc behind an allocator shim):
 * blocks carry a header the allocator checks, and the program also frees through an entry point
 * of its own that no name exports (chromium's dispatch table). Left alone, it runs as natively:
 * had its exported names been replaced, internal_free would get blocks without its header
 * (libc's strdup allocates through the program's malloc too). Valgrind 3.19 replaces them, and
 * under it this program counts 1000 bad headers. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC 0x5a5a5a5a5a5a5a5aULL
static _Alignas(16) unsigned char arena[1 << 22];
static size_t used;
static int bad;

static void *take(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (used + 16 + size > sizeof arena) return NULL;
    uint64_t *header = (uint64_t *)(arena + used);
    header[0] = MAGIC;
    header[1] = size;
    used += 16 + size;
    return header + 2;
}

__attribute__((noinline)) static void internal_free(void *p)
{
    if (!p) return;
    if (((uint64_t *)p)[-2] != MAGIC) bad++;
}

void *malloc(size_t size) { return take(size); }
void free(void *p) { internal_free(p); }
void *calloc(size_t n, size_t size) { void *p = take(n * size); if (p) memset(p, 0, n * size); return p; }
void *realloc(void *p, size_t size)
{
    void *q = take(size);
    if (p && q) memcpy(q, p, ((uint64_t *)p)[-1] < size ? ((uint64_t *)p)[-1] : size);
    return q;
}

int main(void)
{
    for (int i = 0; i < 1000; i++) {
        char *s = strdup("block");   /* libc's strdup: the program's malloc */
        char *t = malloc(32);
        strcpy(t, s);
        internal_free(s);             /* the program's own path, no exported name */
        free(t);
    }
    printf("own allocator: %d bad headers\n", bad);
    return 0;
}
