/* Memory the leak scan cannot read at exit: a heap page the program made PROT_NONE (the only place
 * that points to another block), and a root mapping partly unmapped and partly PROT_NONE. The scan
 * must skip what it cannot read (no crash) and still report the leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

static char **shielded;     /* a heap page, protected at exit */
static char **roots;        /* an anonymous mapping: page 0 readable, page 1 unmapped, page 2 PROT_NONE */

int main(void)
{
    shielded = aligned_alloc(4096, 4096);
    shielded[0] = malloc(32); /* LINE_BEHIND_SHIELD */
    roots = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (roots == MAP_FAILED) return 1;
    roots[0] = malloc(64);                  /* kept: page 0 stays readable */
    roots[1024] = malloc(80); /* LINE_ON_PROTECTED_ROOT */
    char *lost = malloc(48); /* LINE_LOST */
    lost[0] = 1;
    lost = NULL;
    if (mprotect(shielded, 4096, PROT_NONE) != 0) { perror("mprotect heap page"); return 1; }
    if (munmap((char *)roots + 4096, 4096) != 0) { perror("munmap"); return 1; }
    if (mprotect((char *)roots + 2 * 4096, 4096, PROT_NONE) != 0) { perror("mprotect root"); return 1; }
    puts("done");
    return 0;
}
