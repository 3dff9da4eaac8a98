/* Undefined values kept where neither the heap nor the stack is: an anonymous mapping, a global
 * reached through a pointer, a global reached RIP-relative, a static the program made undefined with
 * a client request, a thread-local. Each is read back in another function and branched on, as
 * Valgrind reports it; a global overwritten RIP-relative with a defined value is not reported, nor
 * is TLS overwritten fs-relative (get_tls runs once while TLS is clean, translated unchecked).
 * A mapping given back with madvise(MADV_DONTNEED) reads as zeros: defined (Valgrind 3.19 keeps the
 * old state and reports it). get_global runs once before its global holds an undefined value (its
 * check is made only then: GlobalTaint). (Before, only the heap and the stack kept undefined bytes:
 * a store anywhere else defined them.) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <valgrind/memcheck.h>

int global;
static int globals[4];
static char pool[64];
struct mark { char *p; long n; } saved;
static volatile int sink;
__thread int tls;

__attribute__((noinline)) void put(int *at, int v) { *at = v; }
__attribute__((noinline)) int take(const int *at) { return *at; }
__attribute__((noinline)) void set_global(int v) { global = v; }
__attribute__((noinline)) int get_global(void) { return global; }
__attribute__((noinline)) void save(const struct mark *m) { saved = *m; }
__attribute__((noinline)) void define_n(void) { saved.n = 3; }
__attribute__((noinline)) void set_tls(int v) { tls = v; }
__attribute__((noinline)) int *tls_address(void) { return &tls; }
__attribute__((noinline)) int get_tls(void) { return tls; }

int main(void)
{
    int *p = malloc(8 * sizeof *p);                       /* never written: undefined */
    int *mapped = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return 1;
    if (get_tls() == 1)                                    /* translated while TLS is clean: unchecked */
        sink++;
    put(mapped + 3, p[1]);
    if (take(mapped + 3) == 9) /* LINE_MAPPED */
        sink++;
    put(globals + 2, p[2]);
    if (take(globals + 2) == 9) /* LINE_POINTER */
        sink++;
    if (get_global() == 1)                                /* translated while the global is clean: unchecked */
        sink++;
    set_global(p[3]);                                      /* its page then holds an undefined value: checked */
    if (get_global() == 9) /* LINE_RIP */
        sink++;
    VALGRIND_MAKE_MEM_UNDEFINED(pool + 16, 8);
    if (pool[20] == 7) /* LINE_REQUEST */
        sink++;
    struct mark m = { (char *)p, 0 };
    ((long *)&m)[1] = p[5];                               /* n undefined */
    save(&m);
    define_n();                                            /* and defined again, RIP-relative */
    if (saved.n == 3 && saved.p == (char *)p)
        puts("defined again");
    put(tls_address(), p[6]);                              /* into the thread's TLS through a pointer */
    set_tls(4);                                            /* and overwritten fs-relative (unchecked) */
    if (take(tls_address()) == 4)
        puts("tls");
    set_tls(p[7]);                                         /* an undefined value into TLS, fs-relative */
    if (get_tls() == 9) /* LINE_TLS */
        sink++;
    madvise(mapped, 4096, MADV_DONTNEED);                  /* the page reads as zeros again: defined */
    if (take(mapped + 3) == 0)
        puts("zeroed");
    free(p);
    return 0;
}
