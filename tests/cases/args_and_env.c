/* args_and_env: prints argc, every argument, and the length and a checksum
 * of the environment variable named by CHECKER_BIG_NAME (default
 * CHECKER_BIG). Exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);

    const char *big = getenv("CHECKER_BIG");
    if (big == NULL) {
        printf("CHECKER_BIG unset\n");
        return 0;
    }
    unsigned long hash = 5381;
    for (const char *p = big; *p; p++)
        hash = hash * 33 + (unsigned char)*p;
    printf("CHECKER_BIG: length %zu hash %lu head %.16s tail %s\n",
           strlen(big), hash, big, big + strlen(big) - 16);
    return 0;
}
