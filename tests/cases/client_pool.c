/* A program with allocators of its own, annotated for memcheck through valgrind.h/memcheck.h as
 * Valgrind's manual asks: a bump pool over a malloc'd superblock (VALGRIND_CREATE_MEMPOOL,
 * MEMPOOL_ALLOC/FREE, DESTROY_MEMPOOL; the unused space VALGRIND_MAKE_MEM_NOACCESS) and an arena
 * handing out VALGRIND_MALLOCLIKE_BLOCKs with 16-byte redzones (FREELIKE_BLOCK frees them). It
 * makes four errors, each on a marked line: a read after a pool free, a write past a pool block,
 * a branch on a pool block's never-written bytes, and an arena block it loses. Natively the
 * requests are no-ops and the program runs as it would without them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>

#define POOL_SIZE 4096
#define POOL_REDZONE 8

struct pool { char *base; size_t used; };

static void pool_init(struct pool *pool)
{
    pool->base = malloc(POOL_SIZE);
    pool->used = 0;
    VALGRIND_MAKE_MEM_NOACCESS(pool->base, POOL_SIZE);
    VALGRIND_CREATE_MEMPOOL(pool, POOL_REDZONE, 0);
}

static void *pool_alloc(struct pool *pool, size_t size)
{
    char *block = pool->base + pool->used + POOL_REDZONE;
    pool->used += ((size + 7) & ~(size_t)7) + 2 * POOL_REDZONE;
    VALGRIND_MEMPOOL_ALLOC(pool, block, size);
    return block;
}

static void pool_free(struct pool *pool, void *block)
{
    VALGRIND_MEMPOOL_FREE(pool, block);
}

static void pool_destroy(struct pool *pool)
{
    VALGRIND_DESTROY_MEMPOOL(pool);
    free(pool->base);
}

#define ARENA_SIZE 1024
#define ARENA_REDZONE 16

static char *arena;
static size_t arena_used;

static void *arena_alloc(size_t size)
{
    char *block = arena + arena_used + ARENA_REDZONE;
    arena_used += ((size + 15) & ~(size_t)15) + 2 * ARENA_REDZONE;
    VALGRIND_MALLOCLIKE_BLOCK(block, size, ARENA_REDZONE, 0); /* LINE_ARENA_ALLOC */
    return block;
}

static void arena_free(void *block)
{
    VALGRIND_FREELIKE_BLOCK(block, ARENA_REDZONE);
}

static __attribute__((noinline)) void lose_a_block(void)
{
    char *lost = arena_alloc(40);
    memset(lost, 7, 40);
}

int main(void)
{
    struct pool pool;
    pool_init(&pool);
    arena = malloc(ARENA_SIZE);
    VALGRIND_MAKE_MEM_NOACCESS(arena, ARENA_SIZE);

    int *numbers = pool_alloc(&pool, 4 * sizeof(int));
    for (int i = 0; i < 4; i++) numbers[i] = i * i;
    int sum = numbers[1] + numbers[3];
    pool_free(&pool, numbers);
    volatile int *stale = numbers;
    int after_free = stale[2]; /* LINE_USE_AFTER_POOL_FREE */

    char *name = pool_alloc(&pool, 10);
    strcpy(name, "memcheck");
    volatile char *past = name;
    past[10] = '!'; /* LINE_POOL_OVERFLOW */

    int *fresh = pool_alloc(&pool, 2 * sizeof(int));
    fresh[0] = 1;
    if (fresh[1] > 100) /* LINE_POOL_UNINIT */
        printf("large\n");

    char *kept = arena_alloc(32);
    strcpy(kept, "kept");
    lose_a_block();
    printf("sum %d after %d name %s kept %s\n", sum, after_free, name, kept);
    arena_free(kept);

    pool_destroy(&pool);
    return 0;
}
