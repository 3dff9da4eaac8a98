/* The rest of the MEMPOOL family and the block requests, each misuse on a marked line: a pool
 * renamed by VALGRIND_MOVE_MEMPOOL (its old name is then no pool), a chunk moved by
 * VALGRIND_MEMPOOL_CHANGE, VALGRIND_MEMPOOL_TRIM freeing the chunks outside the range it keeps, a
 * MALLOCLIKE block shrunk and grown by VALGRIND_RESIZEINPLACE_BLOCK, a FREELIKE_BLOCK twice, and an
 * auto-free metapool whose MEMPOOL_FREE takes the MALLOCLIKE blocks inside the chunk with it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>

static char *superblock(size_t size)
{
    char *block = malloc(size);
    VALGRIND_MAKE_MEM_NOACCESS(block, size);
    return block;
}

int main(void)
{
    static int anchor_a, anchor_b, anchor_meta;
    char *space = superblock(1024);

    VALGRIND_CREATE_MEMPOOL(&anchor_a, 0, 1);
    printf("exists: a %u b %u\n", VALGRIND_MEMPOOL_EXISTS(&anchor_a), VALGRIND_MEMPOOL_EXISTS(&anchor_b));
    VALGRIND_MEMPOOL_ALLOC(&anchor_a, space, 64);
    VALGRIND_MOVE_MEMPOOL(&anchor_a, &anchor_b);
    printf("moved: a %u b %u zeroed %d\n", VALGRIND_MEMPOOL_EXISTS(&anchor_a), VALGRIND_MEMPOOL_EXISTS(&anchor_b), space[0]);
    VALGRIND_MEMPOOL_FREE(&anchor_a, space); /* LINE_FREE_OLD_NAME */

    VALGRIND_MEMPOOL_CHANGE(&anchor_b, space, space + 128, 32);
    VALGRIND_MAKE_MEM_NOACCESS(space, 64);
    VALGRIND_MAKE_MEM_DEFINED(space + 128, 32);
    VALGRIND_MEMPOOL_FREE(&anchor_b, space + 128);
    volatile char *moved = space + 128;
    char after_change = moved[4]; /* LINE_USE_CHANGED */

    VALGRIND_MEMPOOL_ALLOC(&anchor_b, space + 256, 16);
    VALGRIND_MEMPOOL_ALLOC(&anchor_b, space + 320, 16);
    VALGRIND_MEMPOOL_ALLOC(&anchor_b, space + 384, 16);
    VALGRIND_MEMPOOL_TRIM(&anchor_b, space + 300, 64);
    volatile char *trimmed = space + 256;
    char kept = space[320];
    char after_trim = trimmed[1]; /* LINE_USE_TRIMMED */
    VALGRIND_DESTROY_MEMPOOL(&anchor_b);
    printf("destroyed: b %u\n", VALGRIND_MEMPOOL_EXISTS(&anchor_b));

    char *block = space + 512;
    VALGRIND_MALLOCLIKE_BLOCK(block, 32, 0, 1);
    VALGRIND_RESIZEINPLACE_BLOCK(block, 32, 16, 0);
    volatile char *resized = block;
    char shrunk = resized[20]; /* LINE_USE_SHRUNK */
    VALGRIND_RESIZEINPLACE_BLOCK(block, 16, 48, 0);
    if (resized[40] == 'x') /* LINE_USE_GROWN */
        printf("x\n");
    VALGRIND_FREELIKE_BLOCK(block, 0);
    VALGRIND_FREELIKE_BLOCK(block, 0); /* LINE_FREE_TWICE */

    char *meta = superblock(256);
    VALGRIND_CREATE_MEMPOOL_EXT(&anchor_meta, 0, 0, VALGRIND_MEMPOOL_METAPOOL | VALGRIND_MEMPOOL_AUTO_FREE);
    VALGRIND_MEMPOOL_ALLOC(&anchor_meta, meta, 128);
    VALGRIND_MALLOCLIKE_BLOCK(meta + 16, 32, 0, 0);
    memset(meta + 16, 'm', 32);
    VALGRIND_MEMPOOL_FREE(&anchor_meta, meta);
    volatile char *inner = meta + 16;
    char after_auto_free = inner[0]; /* LINE_USE_AUTO_FREED */
    VALGRIND_DESTROY_MEMPOOL(&anchor_meta);

    printf("read %d %d %d %d %d\n", after_change, kept, after_trim, shrunk, after_auto_free);
    free(meta);
    free(space);
    return 0;
}
