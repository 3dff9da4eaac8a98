/* dlopen of a system library, kept open: glibc's _dl_find_object allocates a cache-line aligned
   segment for it (a block reached only through an interior pointer), which is glibc's, not a leak
   of the program's. */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
    void *library = dlopen("libm.so.6", RTLD_NOW);
    printf("dlopen %s\n", library ? "ok" : "failed");
    return 0;
}
