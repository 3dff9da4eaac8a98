/* strsort: generate many pseudo-random strings and qsort them with strcmp.
 * Usage: strsort [count]   Prints a checksum of the sorted order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t state = 2463534242u;
static uint32_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 700000;
    char **strings = malloc(sizeof(char *) * count);
    if (!strings) { perror("malloc"); return 1; }
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < count; i++) {
        int len = 4 + rnd() % 28;
        char *s = malloc(len + 1);
        /* Shared prefixes make strcmp work harder. */
        int prefix = rnd() % 4;
        for (int k = 0; k < len; k++)
            s[k] = k < prefix * 2 ? 'p' : alphabet[rnd() % (sizeof alphabet - 1)];
        s[len] = '\0';
        strings[i] = s;
    }
    qsort(strings, count, sizeof(char *), compare);
    uint64_t checksum = 1469598103934665603ull;
    int ordered = 1;
    for (int i = 0; i < count; i++) {
        if (i > 0 && strcmp(strings[i - 1], strings[i]) > 0) ordered = 0;
        for (const char *p = strings[i]; *p; p++)
            checksum = (checksum ^ (unsigned char)*p) * 1099511628211ull;
    }
    printf("strsort: count=%d ordered=%d first=%s last=%s checksum=%016llx\n",
           count, ordered, strings[0], strings[count - 1], (unsigned long long)checksum);
    for (int i = 0; i < count; i++) free(strings[i]);
    free(strings);
    return 0;
}
