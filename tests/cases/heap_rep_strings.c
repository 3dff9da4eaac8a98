/* rep stos/movs over heap blocks, checked by their stub's pass over the shadow (small counts, the
 * common case: a memset or struct copy gcc inlined) before any routine. Clean: many fills and
 * copies of fresh blocks, in main and then again in a second thread (the defines are locked from
 * then on). Reported, each at the rep instruction's line: a rep stosq whose third qword is a
 * 16-byte block's redzone, a rep stosb one byte past a 13-byte block, a rep stosq whose overflow is
 * past its first shadow qword (40 bytes over a 36-byte block), a rep movsb reading one byte past its
 * source, a rep stosq into a freed block, and backwards (std) rep stosqs: one whose lower qword is
 * the block's last, one whose upper qword is the block's first (clean if taken upwards), while one
 * inside the block is clean (not if taken upwards). Definedness: a rep movsq copies a block's undefined half along, and a branch on a
 * copied undefined byte is reported there, while the copied and the rep-stored bytes are defined. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int sink;
static unsigned char *volatile kept;

/* The function returns right after: the status flags are live at the rep instruction. */
__attribute__((noinline)) static void fill_qwords(void *p, unsigned long value, unsigned long n)
{
    __asm__ volatile("rep stosq" /* LINE_STOSQ */ : "+D"(p), "+c"(n) : "a"(value) : "memory");
}

/* The xor sets the flags again: they are dead at the rep instruction. */
__attribute__((noinline)) static void fill_bytes(void *p, int value, unsigned long n)
{
    __asm__ volatile("rep stosb\n\txorl %%eax, %%eax" /* LINE_STOSB */ : "+D"(p), "+c"(n), "+a"(value) : : "memory", "cc");
}

__attribute__((noinline)) static void copy_bytes(void *dst, const void *src, unsigned long n)
{
    __asm__ volatile("rep movsb\n\txorl %%ecx, %%ecx" /* LINE_MOVSB */ : "+D"(dst), "+S"(src), "+c"(n) : : "memory", "cc");
}

__attribute__((noinline)) static void copy_qwords(void *dst, const void *src, unsigned long n)
{
    __asm__ volatile("rep movsq" /* LINE_MOVSQ */ : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* Downwards from the qword at last: [last - 8 * (n - 1), last + 8). */
__attribute__((noinline)) static void fill_qwords_backwards(void *last, unsigned long value, unsigned long n)
{
    __asm__ volatile("std\n\trep stosq\n\tcld" /* LINE_STD */ : "+D"(last), "+c"(n) : "a"(value) : "memory", "cc");
}

static unsigned long clean_rounds(unsigned long seed)
{
    unsigned long total = 0;
    for (int i = 0; i < 2000; i++) {
        unsigned long size = 8 + (unsigned long)(i % 70) * 8;   /* 8 to 560 bytes: one to 18 shadow qwords */
        unsigned char *a = malloc(size), *b = malloc(size + 3);
        fill_qwords(a, seed + (unsigned long)i, size / 8);
        fill_bytes(b, i, size + 3);
        copy_qwords(b, a, size / 8);
        copy_bytes(a, b + 1, size);
        copy_bytes(a, a, 0);
        if (a[size - 1] == b[size + 2]) total++;   /* both defined: no report */
        total += a[0];
        free(a);
        free(b);
    }
    return total;
}

static void *thread_main(void *arg)
{
    *(unsigned long *)arg = clean_rounds(7);
    return NULL;
}

int main(void)
{
    unsigned long clean = clean_rounds(3), clean_thread = 0;
    pthread_t thread;
    if (pthread_create(&thread, NULL, thread_main, &clean_thread) != 0) return 1;
    pthread_join(thread, NULL);

    /* Natively each overflow stays within what glibc's malloc gives (24 usable bytes for 10 to 24,
     * 40 for 36) and the freed block's write misses its tcache pointers. */
    unsigned char *q = malloc(16); /* LINE_Q_ALLOC */
    fill_qwords(q, 0, 3); /* LINE_Q */
    unsigned char *c = malloc(13); /* LINE_C_ALLOC */
    fill_bytes(c, 'c', 14); /* LINE_C */
    unsigned char *l = malloc(36); /* LINE_L_ALLOC */
    fill_qwords(l, 0, 5); /* LINE_L */
    unsigned char *s = malloc(10); /* LINE_S_ALLOC */
    unsigned char *d = malloc(32);
    fill_bytes(s, 's', 10);
    copy_bytes(d, s, 11); /* LINE_S */
    unsigned char *f = malloc(40); /* LINE_F_ALLOC */
    free(f);
    fill_qwords(f + 16, 0, 2); /* LINE_F */
    unsigned char *w = malloc(16); /* LINE_W_ALLOC */
    fill_qwords_backwards(w + 8, 0, 2);    /* [w, w + 16): clean only downwards */
    fill_qwords_backwards(w + 16, 0, 2);   /* LINE_W: [w + 8, w + 24), its second half past the block */
    fill_qwords_backwards(w, 0, 2);        /* LINE_W_BELOW: [w - 8, w + 8), clean only upwards */
    kept = w;   /* natively its chunk header is gone now: never freed */

    unsigned long *u = malloc(64), *v = malloc(64);
    fill_bytes(u, 1, 32);   /* u's first half defined, its second half never written */
    copy_qwords(v, u, 8);
    if (v[1] == 0x0101010101010101UL) sink++;   /* copied defined: no report */
    if (v[6] == 42) sink++; /* LINE_COPIED_UNDEFINED */
    fill_qwords(v, 5, 8);
    if (v[7] == 5) sink++;   /* stored over: defined */

    printf("clean %lu %lu %c%c%c\n", clean, clean_thread, c[12], s[9], d[9]);
    free(q);
    free(c);
    free(l);
    free(s);
    free(d);
    free(u);
    free(v);
    return 0;
}
