/* Every event of the engine's tool interface, once each, with the addresses printed on stdout
 * so a test can match them against memcheck's --trace-events lines:
 * mmap/mprotect/mremap/munmap, brk up and down, sigaltstack and a handler run on it, a fault
 * the program handles, a thread started and exited, a library loaded and unloaded, a fork, and
 * then either an exit with status 3 or an exec of /bin/true (argv[1] = "exec"). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf recover;
static volatile void *handler_frame;

static void on_usr1(int sig) { (void)sig; int local; handler_frame = &local; }
static void on_segv(int sig) { (void)sig; siglongjmp(recover, 1); }
static void *thread_main(void *arg) { return arg; }

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    long page = sysconf(_SC_PAGESIZE);

    char *map = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("mmap %p %p\n", map, map + 3 * page);
    char *moved = mremap(map, 3 * page, 64 * page, MREMAP_MAYMOVE);
    printf("mremap %p %p\n", moved, moved + 64 * page);
    mprotect(moved + page, page, PROT_READ);
    printf("mprotect %p %p\n", moved + page, moved + 2 * page);
    munmap(moved, 64 * page);
    printf("munmap %p %p\n", moved, moved + 64 * page);

    char *before = sbrk(0);
    sbrk(4 * page);
    printf("brk %p %p\n", before, before + 4 * page);
    sbrk(-2 * page);
    printf("brk %p %p\n", before + 4 * page, before + 2 * page);

    stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    printf("altstack %p %p\n", ss.ss_sp, (char *)ss.ss_sp + ss.ss_size);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("handler frame on the alternate stack: %s\n",
           (char *)handler_frame >= (char *)ss.ss_sp && (char *)handler_frame < (char *)ss.ss_sp + ss.ss_size ? "yes" : "no");

    char *guard = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(recover, 1) == 0) *(volatile char *)guard = 1;
    puts("fault handled");

    pthread_t thread;
    pthread_create(&thread, NULL, thread_main, NULL);
    pthread_join(thread, NULL);
    puts("thread joined");

    void *library = dlopen("libdl.so.2", RTLD_NOW);
    printf("dlopen %s\n", library ? "ok" : dlerror());
    if (library) dlclose(library);

    pid_t child = fork();
    if (child == 0) _exit(0);
    int status;
    waitpid(child, &status, 0);
    printf("child %d exited %d\n", (int)child, WEXITSTATUS(status));

    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        execl("/bin/true", "true", (char *)NULL);
        return 1;
    }
    return 3;
}
