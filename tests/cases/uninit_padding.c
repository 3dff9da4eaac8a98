/* A heap struct whose every field is set, by stores the checker merges into one check: only its
 * padding (bytes 1..3) is undefined, and write() of the struct reports exactly those bytes, as
 * Valgrind does. A union of field stores must not define the gap between them. */
#include <stdlib.h>
#include <unistd.h>

struct record { char tag; /* 3 bytes of padding */ int value; long id; };

__attribute__((noinline)) static void fill(struct record *r, int v)
{
    r->tag = 'r';
    r->value = v;
    r->id = 42;
}

int main(void)
{
    struct record *r = malloc(sizeof *r);
    fill(r, 7);
    if (write(1, r, sizeof *r) != sizeof *r) /* LINE_WRITE */
        return 1;
    free(r);
    return 0;
}
