/* Clean: the str and mem routines over heap strings of every length 0..70 in blocks of exactly
 * len + 1 bytes, starting at every offset into the string (so every alignment): strlen, strchr,
 * strrchr, memchr, strcmp, strncmp, strcpy and strcat into exactly sized blocks. glibc's
 * vectorized versions read past the terminator; memcheck's replacements must not, so this must
 * report nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A heap string of exactly len characters in a block of len + 1 bytes. */
static char *make(size_t len, char first)
{
    char *s = malloc(len + 1);
    for (size_t i = 0; i < len; i++) s[i] = (char)(first + i % 23);
    s[len] = '\0';
    return s;
}

int main(void)
{
    unsigned long sum = 0;
    for (size_t len = 0; len <= 70; len++) {
        char *s = make(len, 'a');
        char *same = make(len, 'a');
        char *other = make(len, 'b');
        for (size_t off = 0; off <= len; off++) {
            const char *p = s + off;
            size_t rest = len - off;
            sum += strlen(p);
            char probe = (char)('a' + (len + off) % 23);
            const char *hit = strchr(p, probe);
            sum += hit ? (size_t)(hit - p) + 1 : 0;
            sum += strchr(p, '\0') == s + len;
            hit = strrchr(p, probe);
            sum += hit ? (size_t)(hit - p) + 1 : 0;
            hit = memchr(p, probe, rest);
            sum += hit ? (size_t)(hit - p) + 1 : 0;
            sum += strcmp(p, same + off) == 0;
            sum += strcmp(p, other + off) < 0;
            sum += strncmp(p, same + off, rest + 5) == 0;
            sum += strncmp(p, other + off, rest) < 0;

            char *copy = malloc(rest + 1);
            strcpy(copy, p);
            sum += strcmp(copy, p) == 0;
            char *joined = malloc(2 * rest + 1);
            joined[0] = '\0';
            strcat(joined, p);
            strcat(joined, copy);
            sum += strlen(joined);
            free(copy);
            free(joined);
        }
        free(s);
        free(same);
        free(other);
    }
    printf("strings %lu\n", sum);
    return 0;
}
