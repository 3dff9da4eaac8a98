/* Overlapping copies: each copy routine is called once with overlapping source and destination
 * (one report each, its own kind: overlap), then with buffers that only touch, in both orders, and
 * memmove with overlap (no report). The bytes after every copy are printed: the output must be
 * native's. memcpy and its kin are memmove in glibc; the string copies write 64 bytes below their
 * source, where glibc's result is a memmove too (closer, or above the source, it is an accident of
 * its vector code). Built with -fno-builtin: every copy stays a call. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <wchar.h>

static char buf[512];
static wchar_t wide[256];
static volatile size_t zero = 0;

static void show(const char *what, const char *p, size_t n)
{
    printf("%s:", what);
    for (size_t i = 0; i < n; i++) putchar(p[i] ? p[i] : '.');
    putchar('\n');
}

static void show_wide(const char *what, const wchar_t *p, size_t n)
{
    printf("%s:", what);
    for (size_t i = 0; i < n; i++) putchar(p[i] ? (int)p[i] : '.');
    putchar('\n');
}

/* buf = "0123...xyzABC..." repeated, no NUL, then a string of len characters at offset at. */
static char *reset(size_t at, size_t len)
{
    static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = text[i % (sizeof text - 1)];
    if (len != (size_t)-1) buf[at + len] = '\0';
    return buf + at;
}

static wchar_t *reset_wide(size_t at, size_t len)
{
    for (size_t i = 0; i < sizeof wide / sizeof *wide; i++) wide[i] = (wchar_t)('A' + i % 26);
    wide[at + len] = 0;
    return wide + at;
}

int main(void)
{
    /* Overlapping: reported once each. */
    reset(0, -1);
    memcpy(buf + 1, buf, 21); /* LINE_MEMCPY */
    show("memcpy", buf, 24);
    reset(0, -1);
    char *end = mempcpy(buf, buf + 5, 30); /* LINE_MEMPCPY */
    show("mempcpy", buf, 36);
    printf("mempcpy end %td\n", end - buf);
    reset(0, -1);
    buf[25] = '#';
    char *after = memccpy(buf + 10, buf, '#', 40); /* LINE_MEMCCPY */
    show("memccpy", buf, 40);
    printf("memccpy end %td\n", after - buf);
    char *src = reset(64, 100);
    strcpy(buf, src); /* LINE_STRCPY */
    show("strcpy", buf, 170);
    src = reset(64, 100);
    end = stpcpy(buf, src); /* LINE_STPCPY */
    show("stpcpy", buf, 170);
    printf("stpcpy end %td\n", end - buf);
    src = reset(64, 100);
    strncpy(buf, src, 120); /* LINE_STRNCPY */
    show("strncpy", buf, 170);
    src = reset(64, 50);
    end = stpncpy(buf, src, 90); /* LINE_STPNCPY */
    show("stpncpy", buf, 170);
    printf("stpncpy end %td\n", end - buf);
    src = reset(66, 100);
    buf[2] = '\0';
    strcat(buf, src); /* LINE_STRCAT */
    show("strcat", buf, 170);
    src = reset(66, 100);
    buf[2] = '\0';
    strncat(buf, src, 80); /* LINE_STRNCAT */
    show("strncat", buf, 170);
    reset_wide(0, 200);
    wmemcpy(wide + 1, wide, 10); /* LINE_WMEMCPY */
    show_wide("wmemcpy", wide, 14);
    wchar_t *wsrc = reset_wide(16, 40);
    wcscpy(wide, wsrc); /* LINE_WCSCPY */
    show_wide("wcscpy", wide, 60);
    wsrc = reset_wide(16, 40);
    wchar_t *wend = wcpcpy(wide, wsrc); /* LINE_WCPCPY */
    show_wide("wcpcpy", wide, 60);
    printf("wcpcpy end %td\n", wend - wide);
    wsrc = reset_wide(18, 40);
    wide[2] = 0;
    wcscat(wide, wsrc); /* LINE_WCSCAT */
    show_wide("wcscat", wide, 60);

    /* Not overlapping: memmove, empty ranges, and ranges that only touch (both orders). */
    reset(0, -1);
    memmove(buf + 1, buf, 21);
    memmove(buf, buf + 3, 21);
    memcpy(buf + 40, buf + 45, zero);
    memcpy(buf + 21, buf, 21);
    memcpy(buf, buf + 21, 21);
    mempcpy(buf + 30, buf, 30);
    mempcpy(buf, buf + 30, 30);
    show("touching mem", buf, 64);
    reset(0, -1);
    buf[5] = '#';
    buf[111] = '#';
    memccpy(buf + 6, buf, '#', 40); /* buf[0..5] to buf[6..11] */
    memccpy(buf + 100, buf + 106, '#', 40); /* buf[106..111] to buf[100..105] */
    show("touching memccpy", buf, 120);
    src = reset(0, 20);
    buf[141] = '\0';
    strcpy(buf + 21, src); /* buf[0..20] to buf[21..41] */
    stpcpy(buf + 42, buf + 21); /* to buf[42..62] */
    strcpy(buf + 100, buf + 121); /* buf[121..141] to buf[100..120] */
    strncpy(buf + 300, buf + 320, 20); /* reads buf[320..339] (no NUL), writes buf[300..319] */
    stpncpy(buf + 340, buf + 300, 40); /* reads buf[300..339] (no NUL), writes buf[340..379] */
    show("touching str", buf, 400);
    src = reset(11, 10);
    buf[0] = '\0';
    strcat(buf, src); /* buf[11..21] to buf[0..10] */
    show("touching strcat", buf, 40);
    reset(0, -1);
    buf[0] = 'x';
    buf[1] = '\0';
    strncat(buf, buf + 6, 4); /* reads buf[6..9], writes buf[1..5] */
    show("touching strncat", buf, 12);
    wsrc = reset_wide(0, 10);
    wcscpy(wide + 11, wsrc); /* wide[0..10] to wide[11..21] */
    wcpcpy(wide + 22, wide + 11); /* to wide[22..32] */
    wmemcpy(wide + 50, wide + 40, 10);
    wide[100] = 0;
    wide[121] = 0;
    wcscat(wide + 100, wide + 111); /* wide[111..121] to wide[100..110] */
    show_wide("touching wide", wide, 130);
    return 0;
}
