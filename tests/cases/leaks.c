/* Leaks at exit: a lost block that holds another (direct + indirect), a block kept in a global
 * (in use, not reported), and one reached only through a pointer into its middle (possible). */
#include <stdio.h>
#include <stdlib.h>

struct node { struct node *next; char pad[24]; };

static struct node *kept;
static char *interior;

static void make(void)
{
    struct node *lost = malloc(sizeof *lost); /* LINE_LOST */
    lost->next = malloc(sizeof *lost);
    lost->next->next = NULL;
    kept = malloc(64);
    interior = (char *)malloc(100) + 10; /* LINE_INTERIOR */
}

int main(void)
{
    make();
    puts("done");
    return 0;
}
