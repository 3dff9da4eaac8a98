/* Correct programs that handle partly initialized memory: memcheck must report nothing.
   Padding copied with its struct, bitfields set one at a time, memcpy of a buffer whose tail was
   never written, strings of every length and alignment through libc's string routines (whose
   optimized versions read past the terminator), calloc'd data, printf of doubles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct padded { char c; /* 7 bytes of padding */ long l; short s; /* 6 more */ };
struct flags { unsigned a : 1, b : 3, c : 5, d : 1; };

static long padding_copies(void)
{
    struct padded *src = malloc(sizeof *src), *dst = malloc(4 * sizeof *dst);
    src->c = 'x'; src->l = 42; src->s = 7;
    long total = 0;
    for (int i = 0; i < 4; i++) {
        dst[i] = *src;                       /* copies the padding too */
        memcpy(&dst[(i + 1) % 4], &dst[i], sizeof *dst);
        total += dst[i].l + dst[i].s + dst[i].c;
    }
    free(src); free(dst);
    return total;
}

static int bitfields(void)
{
    struct flags *f = malloc(sizeof *f);
    f->a = 1;                                /* the other bits of the byte stay undefined */
    int n = 0;
    if (f->a) n++;
    f->c = 17;
    if (f->c == 17) n++;
    free(f);
    return n;
}

static int partly_initialized_memcpy(void)
{
    char *a = malloc(64), *b = malloc(64);
    memset(a, 'q', 20);                     /* bytes 20..63 never written */
    memcpy(b, a, 64);
    int n = 0;
    for (int i = 0; i < 20; i++) n += b[i] == 'q';
    free(a); free(b);
    return n;
}

static unsigned long strings(void)
{
    unsigned long sum = 0;
    for (int align = 0; align < 16; align++) {
        for (int len = 0; len < 80; len++) {
            char *block = malloc(align + len + 1 + 64);   /* the tail past the NUL is undefined */
            char *s = block + align;
            for (int i = 0; i < len; i++) s[i] = 'a' + (i * 7 + align) % 26;
            s[len] = 0;
            char *copy = malloc(len + 1);
            strcpy(copy, s);
            sum += strlen(s) + strnlen(s, 40) + (strcmp(s, copy) == 0) + (strncmp(s, copy, 10) == 0);
            sum += (strchr(s, 'z') != NULL) + (strrchr(s, 'b') != NULL) + (memchr(s, 'c', len) != NULL);
            sum += (strstr(s, "hov") != NULL) + (memcmp(s, copy, len) == 0) + (strcasecmp(s, copy) == 0);
            sum += strspn(s, "abcdefghij") + strcspn(s, "xyz");
            char *dup = strdup(s);
            sum += strlen(dup);
            char out[128];
            snprintf(out, sizeof out, "[%s]", s);
            sum += strlen(out);
            free(dup); free(copy); free(block);
        }
    }
    return sum;
}

static int calloced(void)
{
    int *z = calloc(100, sizeof *z);
    int n = 0;
    for (int i = 0; i < 100; i++) n += z[i] == 0;
    free(z);
    return n;
}

int main(void)
{
    double *d = malloc(3 * sizeof *d);
    d[0] = 1.5; d[1] = -2.25; d[2] = d[0] * d[1];
    printf("padding %ld bitfields %d memcpy %d strings %lu calloc %d doubles %.3f %g %e\n",
           padding_copies(), bitfields(), partly_initialized_memcpy(), strings(), calloced(), d[0], d[1], d[2]);
    free(d);
    return 0;
}
