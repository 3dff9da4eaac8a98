/* An executable with its own malloc (left to run as its code) under a layer that describes the
   objects it keeps in malloc'd blocks with client requests, as GLib does for its GObjects: the
   object is freed with VALGRIND_FREELIKE_BLOCK, its block given back to the program's allocator,
   which hands the same memory out again with no client request. Using it then is no error (under
   memcheck it was reported as a use of freed memory: Chromium's ~260 such reports a run). */
#include <stdio.h>
#include <string.h>
#include <valgrind/valgrind.h>

static char arena[1 << 16];
static size_t used;
static void *last_freed;

void *malloc(size_t n)
{
    if (last_freed) {
        void *p = last_freed;
        last_freed = NULL;
        return p;
    }
    void *p = arena + used;
    used += (n + 15) & ~(size_t)15;
    return p;
}
void free(void *p) { last_freed = p; }
void *calloc(size_t a, size_t b) { void *p = malloc(a * b); memset(p, 0, a * b); return p; }
void *realloc(void *p, size_t n) { void *q = malloc(n); if (p) memcpy(q, p, n); return q; }

int main(void)
{
    char *block = malloc(64);
    VALGRIND_MALLOCLIKE_BLOCK(block + 16, 32, 0, 1);   /* the object inside the block */
    memset(block + 16, 1, 32);
    VALGRIND_FREELIKE_BLOCK(block + 16, 0);
    free(block);
    char *again = malloc(64);                           /* the same memory, handed out again */
    memset(again, 2, 64);
    printf("reused %d, byte %d\n", again == block, again[20]);
    return 0;
}
