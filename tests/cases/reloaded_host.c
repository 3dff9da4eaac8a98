/* Loads the plugin (argv[1]), calls it, unloads it, takes a page of its old range so that the
   dynamic loader must put it elsewhere, and loads it again: the same file at a second load bias,
   whose frames were looked up at the first one's (bare addresses in the second report). The block
   the plugin allocated and nobody freed is a leak whose allocating frame is a library unloaded by
   then (a bare address as valgrind's "???" before). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    void *bases[2] = { 0, 0 };
    for (int i = 0; i < 2; i++) {
        void *plugin = dlopen(argv[1], RTLD_NOW);
        if (!plugin) { printf("dlopen: %s\n", dlerror()); return 1; }
        int (*step)(int) = (int (*)(int))dlsym(plugin, "plugin_step");
        Dl_info info;
        dladdr((void *)step, &info);
        bases[i] = info.dli_fbase;
        step(i + 7);
        if (i == 0) {
            char *(*keep)(int) = (char *(*)(int))dlsym(plugin, "plugin_keep");
            keep(40)[0] = 1;   /* the pointer dropped: a leak allocated by the plugin */
        }
        dlclose(plugin);
        if (i == 0) mmap(info.dli_fbase, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    }
    printf("loaded at two addresses: %d\n", bases[0] != bases[1]);
    return 0;
}
