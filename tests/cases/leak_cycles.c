/* Leaks that point at each other: a lost 2-node ring and a lost doubly-linked list (each block is
 * pointed to by another lost block, none by the program), and 100 lost blocks from one site that
 * make one record. Valgrind reports each cycle as one definite leak led by one block, with the
 * rest as its indirect bytes. */
#include <stdio.h>
#include <stdlib.h>

struct ring { struct ring *next; char pad[40]; };                 /* 48 bytes */
struct dnode { struct dnode *prev, *next; char pad[16]; };         /* 32 bytes */

static __attribute__((noinline)) struct ring *ring_node(void)
{
    return calloc(1, sizeof(struct ring)); /* LINE_RING */
}

static __attribute__((noinline)) struct dnode *list_node(void)
{
    return calloc(1, sizeof(struct dnode)); /* LINE_LIST */
}

static __attribute__((noinline)) void lose_ring(void)
{
    struct ring *a = ring_node(), *b = ring_node();
    a->next = b;
    b->next = a;
}

static __attribute__((noinline)) void lose_list(int n)
{
    struct dnode *head = NULL, *tail = NULL;
    for (int i = 0; i < n; i++) {
        struct dnode *d = list_node();
        d->prev = tail;
        if (tail) tail->next = d; else head = d;
        tail = d;
    }
    (void)head;
}

static __attribute__((noinline)) void lose_many(int n)
{
    for (int i = 0; i < n; i++) {
        char *p = malloc(32); /* LINE_MANY */
        p[0] = (char)i;
    }
}

/* Overwrites the dead stack below main's frame, so no stale copy of a lost pointer survives there. */
static __attribute__((noinline)) void scrub(void)
{
    volatile char area[16384];
    for (unsigned i = 0; i < sizeof area; i++) area[i] = 0;
}

int main(void)
{
    lose_ring();
    lose_list(5);
    lose_many(100);
    scrub();
    puts("done");
    return 0;
}
