/* alignment_check_flag: sets the AC flag (as CPU probes like the JVM's do), makes a system call
 * with it set, clears it, and prints "ok". Natively nothing faults: the program makes no unaligned
 * access while it is set. memcheck's own code (the system call's) must not run with it on. */
#include <stdio.h>

static inline void set_ac(void) { __asm__ volatile("pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc"); }
static inline void clear_ac(void) { __asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "memory", "cc"); }

int main(void)
{
    long pid;
    set_ac();
    __asm__ volatile("syscall" : "=a"(pid) : "a"(39L /* getpid */) : "rcx", "r11", "memory");
    clear_ac();
    printf("ok %d\n", pid > 0);
    return 0;
}
