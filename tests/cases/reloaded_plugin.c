/* The plugin reloaded_host.c loads twice, at two addresses: the branch on an undefined word must be
   named here both times, and the block it leaks at its first load (reported at exit, long after
   the dlclose) here too. */
#include <stdlib.h>

static int odd(int x) { return x * 3 + 1; }
static int even(int x) { return x / 2; }

char *plugin_keep(int n)
{
    return malloc(n);                                             /* LINE_PLUGIN_LEAK */
}

int plugin_step(int x)
{
    int *fresh = malloc(8);
    int r = fresh[1] ? odd(x) : even(x);                          /* LINE_PLUGIN_BRANCH */
    free(fresh);
    return r;
}
