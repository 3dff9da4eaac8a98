/* A tiny JIT: code written into an executable page, run, rewritten in place and run again, with
 * VALGRIND_DISCARD_TRANSLATIONS between, as JITs annotated for Valgrind do. Under a translator that
 * does not see stores into code, only the request makes the second run take the new code. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <valgrind/valgrind.h>

typedef int (*function)(void);

static void emit(unsigned char *code, int value)
{
    unsigned char body[] = { 0xb8, (unsigned char)value, 0, 0, 0, 0xc3 };   /* mov eax, value; ret */
    memcpy(code, body, sizeof body);
}

int main(void)
{
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 1;
    emit(code, 1);
    int first = ((function)code)();
    emit(code, 2);
    VALGRIND_DISCARD_TRANSLATIONS(code, 4096);
    int second = ((function)code)();
    printf("first %d second %d\n", first, second);
    return 0;
}
