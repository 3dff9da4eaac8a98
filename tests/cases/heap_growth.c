/* Grows a buffer again and again: "malloc" mode mallocs a block STEP bytes larger than the last and
 * frees the old one, "realloc" mode reallocs it STEP bytes larger; the first and last bytes are
 * written and checked each time. Natively this needs a few of the largest blocks; a heap that never
 * reuses freed space needs the sum of all the sizes. The program caps itself: when its resident
 * memory (with memcheck's: one process) passes CAP_MB it stops with status 3, so a regression
 * cannot take the machine. Prints "done" and the peak resident size (VmHWM) in MB.
 * Usage: heap_growth malloc|realloc STEPS STEP_BYTES CAP_MB */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long status_mb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') { kb = atol(line + n + 1); break; }
    if (f) fclose(f);
    return kb / 1024;
}

int main(int argc, char **argv)
{
    if (argc != 5) return 2;
    int use_realloc = strcmp(argv[1], "realloc") == 0;
    long steps = atol(argv[2]), step = atol(argv[3]), cap = atol(argv[4]);
    char *block = NULL;
    size_t size = 0;
    for (long i = 0; i < steps; i++) {
        size += (size_t)step;
        char *grown = use_realloc ? realloc(block, size) : malloc(size);
        if (!grown) { printf("NULL at %zu bytes\n", size); return 1; }
        if (use_realloc && i > 0 && grown[size - step - 1] != (char)(i - 1)) { puts("realloc lost the contents"); return 1; }
        grown[0] = (char)i;
        grown[size - 1] = (char)i;
        if (!use_realloc) free(block);
        block = grown;
        if (i % 16 == 0 && status_mb("VmRSS") > cap) { printf("over the %ld MB cap at %zu bytes\n", cap, size); return 3; }
    }
    free(block);
    printf("done\npeak %ld MB\n", status_mb("VmHWM"));
    return 0;
}
