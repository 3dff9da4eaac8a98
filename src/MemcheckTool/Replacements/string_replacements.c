/*
 * libchecker-replace.so: guest-side replacements for libc's string and memory routines.
 *
 * glibc's optimized versions (SSE2/AVX2/EVEX) read whole aligned vectors, so they routinely load
 * bytes past a string's terminator or past n. That is harmless on real hardware (an aligned vector
 * never crosses a page) but the checker sees every load exactly: bytes in a heap redzone or beyond a
 * block are reported as unaddressable, and bytes after the terminator as uninitialized. Like
 * Dr. Memory, the engine maps this object into the guest and redirects libc's functions here.
 * These run as ordinary translated guest code and read exactly what the C standard says they
 * read, so the checker's access checks see no over-reads:
 *   - str* and wcs* functions walk one byte (or wchar_t) at a time and stop at the terminator,
 *     at n, at a match or at the first difference, whichever comes first;
 *   - functions whose range is known up front (mem*, bcmp, wmemcpy, wmemset) use unaligned
 *     8-byte words strictly inside [p, p + n) and single bytes for the tail, for speed.
 *
 * Overlap: a copy whose source and destination overlap (undefined for all but memmove) is
 * reported through checker_report_overlap(), a call the engine intercepts, and then done as memmove
 * does it, after the whole source was read: the bytes glibc's memcpy, mempcpy and memccpy leave on
 * this machine (they are memmove), and what glibc's string copies leave wherever theirs is not an
 * accident of their vector code (see StringReplacementTests). Telling overlap apart costs one
 * range comparison on the way in.
 *
 * Built freestanding (-nostdlib -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns,
 * -Wl,-z,defs): gcc must not turn a loop into a call to memcpy/memset/strlen, and there is no libc
 * to call. Exported functions never call each other: a call to an exported name from inside a
 * shared object goes through the PLT and could bind to libc's version, so shared work lives in
 * static helpers, always inlined: every instruction of the object then belongs to an exported
 * function, which is how a report names a frame in here (strlen, not a helper; a test checks it).
 */

#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))
/* Helpers are inlined into each exported function that uses them (see above). */
#define HELPER static inline __attribute__((always_inline))

/* Unaligned, alias-anything 8-byte word: x86-64 loads and stores these at any address. */
typedef uint64_t __attribute__((may_alias, aligned(1))) u64u;

typedef unsigned char uchar;

/* ---- helpers (static and inlined: never interposed, never exported, never a frame of their own) ---- */

HELPER void copy_forward(uchar *d, const uchar *s, size_t n)
{
    /* With d < s the stores of a word only reach bytes of the word just loaded, so a forward
     * copy is also right for an overlapping move to a lower address. */
    while (n >= 8) {
        *(u64u *)d = *(const u64u *)s;
        d += 8;
        s += 8;
        n -= 8;
    }
    while (n--) *d++ = *s++;
}

HELPER void copy_backward(uchar *d, const uchar *s, size_t n)
{
    /* Mirror image of copy_forward: right for an overlapping move to a higher address. */
    d += n;
    s += n;
    while (n >= 8) {
        d -= 8;
        s -= 8;
        n -= 8;
        *(u64u *)d = *(const u64u *)s;
    }
    while (n--) *--d = *--s;
}

HELPER void move(void *dst, const void *src, size_t n)
{
    uchar *d = dst;
    const uchar *s = src;
    /* Forward is safe unless dst starts inside (src, src + n); unsigned wrap covers dst < src. */
    if ((uintptr_t)d - (uintptr_t)s >= n)
        copy_forward(d, s, n);
    else
        copy_backward(d, s, n);
}

HELPER void fill(uchar *d, uint64_t word, size_t n)
{
    /* word is the 8-byte pattern as stored at d (8 equal bytes, or 2 wchar_t); the tail (< 8
     * bytes) takes its bytes in order from the low end. */
    while (n >= 8) {
        *(u64u *)d = word;
        d += 8;
        n -= 8;
    }
    while (n--) {
        *d++ = (uchar)word;
        word >>= 8;
    }
}

HELPER int compare(const void *p1, const void *p2, size_t n)
{
    const uchar *a = p1, *b = p2;
    while (n >= 8) {
        uint64_t x = *(const u64u *)a, y = *(const u64u *)b;
        if (x != y) {
            /* Little endian: the lowest differing bit lies in the first differing byte. */
            unsigned shift = (unsigned)__builtin_ctzll(x ^ y) & ~7u;
            return (int)((x >> shift) & 0xff) - (int)((y >> shift) & 0xff);
        }
        a += 8;
        b += 8;
        n -= 8;
    }
    for (; n; n--, a++, b++)
        if (*a != *b) return *a - *b;
    return 0;
}

HELPER size_t string_length(const char *s)
{
    const char *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

/* ASCII case folding only: the C/POSIX locale's tolower. Other locales' rules for bytes >= 0x80
 * are not applied (acceptable for the checker: results differ only in non-C locales). */
HELPER int fold(uchar c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Membership table for strspn/strcspn/strpbrk: one bit per byte value; reads set up to its NUL. */
typedef struct { uint64_t bits[4]; } byteset;

HELPER void set_init(byteset *t, const char *set)
{
    t->bits[0] = t->bits[1] = t->bits[2] = t->bits[3] = 0;
    for (const uchar *p = (const uchar *)set; *p; p++) t->bits[*p >> 6] |= 1ull << (*p & 63);
}

HELPER int set_has(const byteset *t, uchar c)
{
    return (int)((t->bits[c >> 6] >> (c & 63)) & 1);
}

HELPER size_t bounded_length(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i]) i++;
    return i;
}

HELPER size_t wide_length(const wchar_t *s)
{
    const wchar_t *p = s;
    while (*p) p++;
    return (size_t)(p - s);
}

HELPER const uchar *find_byte(const uchar *p, uchar c, size_t n)
{
    for (; n; n--, p++)
        if (*p == c) return p;
    return NULL;
}

/* ---- overlap ---- */

/*
 * The channel to the engine: it intercepts this entry (as it does malloc's; OverlapHook.cs), so
 * under memcheck the body never runs. The handler reads the arguments, captures the callstack (the
 * replaced routine's frame, then the program's caller) and reports "source and destination overlap
 * in function(dst, src, ...)"; function points at a string literal of this object. Run natively
 * (the test harness dlopen()s the object) it does nothing. Its contract is narrower than a C call's:
 * it returns with every register but rax as it found them (the engine's intercept restores the
 * guest's registers from the context block and sets only rax; this body is a bare ret), so the
 * routines call it through report_overlap() below without saving anything around the call.
 */
__attribute__((visibility("protected"), noipa, used))
void checker_report_overlap(const char *function, const void *dst, const void *src, size_t n, int c)
{
    (void)function, (void)dst, (void)src, (void)n, (void)c;
}

/* The hook's call as the contract above allows: a call in gcc's eyes would make every routine keep
 * its arguments in callee-saved registers, pushed and popped on the usual path too. The call
 * writes its return address below rsp: the object is built with -mno-red-zone. Vector registers
 * are not preserved by the engine's light exit around intercepted calls (nor flags). */
HELPER void report_overlap(const char *function, const void *dst, const void *src, size_t n, int c)
{
    register long character __asm__("r8") = c;
    __asm__ volatile("call checker_report_overlap"
                     :
                     : "D"(function), "S"(dst), "d"(src), "c"(n), "r"(character)
                     : "rax", "cc", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* [a, a + alen) and [b, b + blen) share a byte: one of them starts inside the other, which is
 * non-empty. Unsigned differences, so a start below the other's wraps to a huge value. */
HELPER int overlap(const void *a, size_t alen, const void *b, size_t blen)
{
    return ((uintptr_t)b - (uintptr_t)a < alen && blen) || ((uintptr_t)a - (uintptr_t)b < blen && alen);
}

/* ---- memory functions: range known up front, word accesses inside it ---- */

EXPORT void *memcpy(void *dst, const void *src, size_t n)
{
    /* Overlap is undefined for memcpy, but programs do it: glibc's is memmove here, so is ours. */
    if (overlap(dst, n, src, n)) report_overlap("memcpy", dst, src, n, 0);
    move(dst, src, n);
    return dst;
}

EXPORT void *memmove(void *dst, const void *src, size_t n)
{
    move(dst, src, n);
    return dst;
}

EXPORT void *mempcpy(void *dst, const void *src, size_t n)
{
    if (overlap(dst, n, src, n)) report_overlap("mempcpy", dst, src, n, 0);
    move(dst, src, n);
    return (uchar *)dst + n;
}

EXPORT void *memccpy(void *dst, const void *src, int c, size_t n)
{
    /* glibc's is memchr, then mempcpy (or memcpy when c is absent): the same bytes on overlap. */
    const uchar *hit = find_byte(src, (uchar)c, n);
    size_t count = hit ? (size_t)(hit - (const uchar *)src) + 1 : n;
    if (overlap(dst, count, src, count)) report_overlap("memccpy", dst, src, n, c);
    move(dst, src, count);
    return hit ? (uchar *)dst + count : NULL;
}

EXPORT void *memset(void *dst, int c, size_t n)
{
    fill(dst, (uchar)c * 0x0101010101010101ull, n);
    return dst;
}

EXPORT int memcmp(const void *a, const void *b, size_t n)
{
    return compare(a, b, n);
}

EXPORT int bcmp(const void *a, const void *b, size_t n)
{
    return compare(a, b, n);
}

/* ---- searches over bytes: stop at the match ---- */

EXPORT void *memchr(const void *s, int c, size_t n)
{
    /* Byte loop, not words: C11 says memchr stops at the first match, and callers pass n larger
     * than the object when they know the byte is there. */
    return (void *)find_byte(s, (uchar)c, n);
}

EXPORT void *memrchr(const void *s, int c, size_t n)
{
    const uchar *p = (const uchar *)s + n;
    while (n--)
        if (*--p == (uchar)c) return (void *)p;
    return NULL;
}

EXPORT void *rawmemchr(const void *s, int c)
{
    const uchar *p = s;
    while (*p != (uchar)c) p++;
    return (void *)p;
}

/* ---- strings: byte loops up to the terminator ---- */

EXPORT size_t strlen(const char *s)
{
    return string_length(s);
}

EXPORT size_t strnlen(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i]) i++;
    return i;
}

EXPORT char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c) return (char *)s;
        if (!*s) return NULL;
    }
}

EXPORT char *strchrnul(const char *s, int c)
{
    while (*s && *s != (char)c) s++;
    return (char *)s;
}

EXPORT char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c) last = s;
        if (!*s) return (char *)last;
    }
}

EXPORT int strcmp(const char *a, const char *b)
{
    const uchar *p = (const uchar *)a, *q = (const uchar *)b;
    while (*p && *p == *q) p++, q++;
    return *p - *q;
}

EXPORT int strncmp(const char *a, const char *b, size_t n)
{
    const uchar *p = (const uchar *)a, *q = (const uchar *)b;
    for (; n; n--, p++, q++)
        if (*p != *q || !*p) return *p - *q;
    return 0;
}

EXPORT int strcasecmp(const char *a, const char *b)
{
    const uchar *p = (const uchar *)a, *q = (const uchar *)b;
    for (;; p++, q++) {
        int x = fold(*p), y = fold(*q);
        if (x != y || !x) return x - y;
    }
}

EXPORT int strncasecmp(const char *a, const char *b, size_t n)
{
    const uchar *p = (const uchar *)a, *q = (const uchar *)b;
    for (; n; n--, p++, q++) {
        int x = fold(*p), y = fold(*q);
        if (x != y || !x) return x - y;
    }
    return 0;
}

/* String copies read the whole source before the first write (its length first, then a move), so
 * an overlapping copy is a memmove of exactly the bytes the C standard says are copied. */

EXPORT char *strcpy(char *dst, const char *src)
{
    size_t n = string_length(src) + 1;
    if (overlap(dst, n, src, n)) report_overlap("strcpy", dst, src, n, 0);
    move(dst, src, n);
    return dst;
}

EXPORT char *stpcpy(char *dst, const char *src)
{
    size_t n = string_length(src) + 1;
    if (overlap(dst, n, src, n)) report_overlap("stpcpy", dst, src, n, 0);
    move(dst, src, n);
    return dst + n - 1;
}

/* strncpy and stpncpy: read src up to its NUL or n bytes; write n bytes, NUL padded. Returns the
 * end of the copied characters (stpncpy's result: the first NUL written, or dst + n). */
HELPER char *copy_padded(const char *function, char *dst, const char *src, size_t n)
{
    size_t k = bounded_length(src, n);
    size_t read = k < n ? k + 1 : n;
    if (overlap(dst, n, src, read)) report_overlap(function, dst, src, n, 0);
    move(dst, src, k);
    fill((uchar *)dst + k, 0, n - k);
    return dst + k;
}

EXPORT char *strncpy(char *dst, const char *src, size_t n)
{
    copy_padded("strncpy", dst, src, n);
    return dst;
}

EXPORT char *stpncpy(char *dst, const char *src, size_t n)
{
    return copy_padded("stpncpy", dst, src, n);
}

EXPORT char *strcat(char *dst, const char *src)
{
    /* The destination string is read and extended: all of it is checked against the source. */
    size_t end = string_length(dst), n = string_length(src) + 1;
    if (overlap(dst, end + n, src, n)) report_overlap("strcat", dst, src, n, 0);
    move(dst + end, src, n);
    return dst;
}

EXPORT char *strncat(char *dst, const char *src, size_t n)
{
    /* src need not be terminated within n bytes: at most n are read, then a NUL is appended. */
    size_t end = string_length(dst), k = bounded_length(src, n);
    size_t read = k < n ? k + 1 : n;
    if (overlap(dst, end + k + 1, src, read)) report_overlap("strncat", dst, src, n, 0);
    move(dst + end, src, k);
    dst[end + k] = 0;
    return dst;
}

EXPORT char *strstr(const char *hay, const char *needle)
{
    /* Naive search (quadratic worst case, like Dr. Memory's): it never reads hay beyond its
     * terminator, and gives up as soon as the rest of hay is shorter than the needle. */
    if (!*needle) return (char *)hay;
    for (; *hay; hay++) {
        size_t i = 0;
        while (needle[i] && hay[i] == needle[i]) i++;
        if (!needle[i]) return (char *)hay;
        if (!hay[i]) return NULL;
    }
    return NULL;
}

EXPORT size_t strspn(const char *s, const char *accept)
{
    byteset t;
    set_init(&t, accept);
    size_t i = 0;
    /* The NUL is never in the set, so the loop stops at the terminator at the latest. */
    while (set_has(&t, (uchar)s[i])) i++;
    return i;
}

EXPORT size_t strcspn(const char *s, const char *reject)
{
    byteset t;
    set_init(&t, reject);
    size_t i = 0;
    while (s[i] && !set_has(&t, (uchar)s[i])) i++;
    return i;
}

EXPORT char *strpbrk(const char *s, const char *accept)
{
    byteset t;
    set_init(&t, accept);
    for (; *s; s++)
        if (set_has(&t, (uchar)*s)) return (char *)s;
    return NULL;
}

/* ---- wide characters (wchar_t is a signed 32-bit int on x86-64 Linux) ---- */

EXPORT size_t wcslen(const wchar_t *s)
{
    return wide_length(s);
}

EXPORT size_t wcsnlen(const wchar_t *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i]) i++;
    return i;
}

EXPORT int wcscmp(const wchar_t *a, const wchar_t *b)
{
    /* Compared as (signed) wchar_t, like glibc; the difference could overflow, so -1/0/1. */
    while (*a && *a == *b) a++, b++;
    return *a < *b ? -1 : *a > *b;
}

EXPORT wchar_t *wcschr(const wchar_t *s, wchar_t c)
{
    for (;; s++) {
        if (*s == c) return (wchar_t *)s;
        if (!*s) return NULL;
    }
}

EXPORT wchar_t *wmemchr(const wchar_t *s, wchar_t c, size_t n)
{
    for (; n; n--, s++)
        if (*s == c) return (wchar_t *)s;
    return NULL;
}

EXPORT wchar_t *wmemset(wchar_t *dst, wchar_t c, size_t n)
{
    uint64_t w = (uint32_t)c;
    fill((uchar *)dst, w | (w << 32), n * sizeof(wchar_t));
    return dst;
}

EXPORT wchar_t *wmemcpy(wchar_t *dst, const wchar_t *src, size_t n)
{
    size_t bytes = n * sizeof(wchar_t);
    if (overlap(dst, bytes, src, bytes)) report_overlap("wmemcpy", dst, src, n, 0);
    move(dst, src, bytes);
    return dst;
}

/* Wide string copies: the whole source read first, then moved, as for strcpy. */

EXPORT wchar_t *wcscpy(wchar_t *dst, const wchar_t *src)
{
    size_t n = wide_length(src) + 1;
    if (overlap(dst, n * sizeof(wchar_t), src, n * sizeof(wchar_t))) report_overlap("wcscpy", dst, src, n, 0);
    move(dst, src, n * sizeof(wchar_t));
    return dst;
}

EXPORT wchar_t *wcpcpy(wchar_t *dst, const wchar_t *src)
{
    size_t n = wide_length(src) + 1;
    if (overlap(dst, n * sizeof(wchar_t), src, n * sizeof(wchar_t))) report_overlap("wcpcpy", dst, src, n, 0);
    move(dst, src, n * sizeof(wchar_t));
    return dst + n - 1;
}

EXPORT wchar_t *wcscat(wchar_t *dst, const wchar_t *src)
{
    size_t end = wide_length(dst), n = wide_length(src) + 1;
    if (overlap(dst, (end + n) * sizeof(wchar_t), src, n * sizeof(wchar_t))) report_overlap("wcscat", dst, src, n, 0);
    move(dst + end, src, n * sizeof(wchar_t));
    return dst;
}

EXPORT wchar_t *wcsrchr(const wchar_t *s, wchar_t c)
{
    const wchar_t *found = NULL;
    for (;; s++) {
        if (*s == c) found = s;
        if (!*s) return (wchar_t *)found;
    }
}

EXPORT int wcsncmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b) return *a < *b ? -1 : 1;
        if (!*a) return 0;
    }
    return 0;
}

EXPORT int wmemcmp(const wchar_t *a, const wchar_t *b, size_t n)
{
    for (; n; n--, a++, b++)
        if (*a != *b) return *a < *b ? -1 : 1;
    return 0;
}
