/* script_interpreter: a tiny interpreter for #! scripts. Run as "#!/path/script_interpreter -v",
 * it gets argv = [itself, "-v", script, args...]: it prints them, what /proc/self/exe and AT_EXECFN
 * are, and the script's lines, each copied into a buffer one byte too small on the way (the heap
 * bug memcheck must report in this file). Natively harmless: malloc slack. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static void echo_line(const char *line)
{
    size_t n = strlen(line);
    char *copy = malloc(n); /* LINE_INTERPRETER_ALLOC */
    memcpy(copy, line, n);
    copy[n] = 0; /* LINE_INTERPRETER_BUG */
    printf("script: %s", line);
    free(copy);
}

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    printf("exe=%s\nexecfn=%s\n", exe, (const char *)getauxval(AT_EXECFN));
    int script = argc > 2 && argv[1][0] == '-' ? 2 : 1;
    FILE *file = argc > script ? fopen(argv[script], "r") : NULL;
    if (file == NULL) {
        perror("script");
        return 1;
    }
    char line[256];
    while (fgets(line, sizeof line, file))
        if (line[0] != '#')
            echo_line(line);
    fclose(file);
    return 0;
}
