/* What the kernel writes through system calls outside the everyday file and socket ones is
   defined: capget's data (node reads it at start-up), mincore's vector, System V messages,
   semaphores and shared memory, POSIX message queues, native AIO, process_vm_readv,
   sched_getattr, the NUMA calls, name_to_handle_at and ptrace's PEEKDATA/GETREGS. Each output is
   compared byte by byte, so a byte memcheck took for undefined would be reported in use();
   the one buffer no call fills (the control) must be. A call the machine refuses (no NUMA, a
   file system without handles, ptrace forbidden) is skipped and not named in the output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/capability.h>
#include <linux/elf.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static int hits;

/* Every byte decides a branch: an undefined one is reported here. */
static void __attribute__((noinline)) use(const char *what, const void *p, size_t n)
{
    const volatile unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] == 0xa5) hits++;                                 /* LINE_USE */
    printf("%s ", what);
}

static long capabilities(void)
{
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &header, data) != 0) return -1;
    use("capget", data, sizeof data);
    return 0;
}

static void residency(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *region = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    region[0] = 1;
    unsigned char vec[3];
    if (mincore(region, 3 * page, vec) == 0) use("mincore", vec, sizeof vec);
    munmap(region, 3 * page);
}

static void messages(void)
{
    int queue = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (queue < 0) return;
    struct { long type; char text[64]; } out = { 7, "hello" }, in;
    if (msgsnd(queue, &out, 6, 0) == 0) {
        ssize_t n = msgrcv(queue, &in, sizeof in.text, 0, 0);
        if (n == 6) {
            use("msgrcv", &in, sizeof in.type + (size_t)n);
        }
    }
    struct msqid_ds status;
    if (msgctl(queue, IPC_STAT, &status) == 0) use("msgctl", &status, sizeof status);
    msgctl(queue, IPC_RMID, NULL);
}

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void semaphores(void)
{
    int set = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
    if (set < 0) return;
    unsigned short values[3] = { 1, 2, 3 }, back[3];
    union semun arg = { .array = values };
    if (semctl(set, 0, SETALL, arg) == 0) {
        arg.array = back;
        if (semctl(set, 0, GETALL, arg) == 0) use("semctl-getall", back, sizeof back);
    }
    struct sembuf op = { 0, -1, 0 };
    semop(set, &op, 1);
    struct semid_ds status;
    arg.buf = &status;
    if (semctl(set, 0, IPC_STAT, arg) == 0) use("semctl-stat", &status, sizeof status);
    semctl(set, 0, IPC_RMID);
}

static void shared_memory(void)
{
    int segment = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    if (segment < 0) return;
    struct shmid_ds status;
    if (shmctl(segment, IPC_STAT, &status) == 0) use("shmctl", &status, sizeof status);
    shmctl(segment, IPC_RMID, NULL);
}

static void message_queue(void)
{
    char name[64];
    snprintf(name, sizeof name, "/memcheck-kernel-outputs-%d", (int)getpid());
    struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 };   /* only the two fields mq_open reads */
    mqd_t queue = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
    if (queue == (mqd_t)-1) return;
    mq_unlink(name);
    char buffer[32];
    unsigned priority;
    if (mq_send(queue, "queued", 7, 5) == 0) {
        ssize_t n = mq_receive(queue, buffer, sizeof buffer, &priority);
        if (n == 7) {
            use("mq_receive", buffer, (size_t)n);
            use("mq_prio", &priority, sizeof priority);
        }
    }
    struct mq_attr now;
    if (mq_getattr(queue, &now) == 0) use("mq_getattr", &now, sizeof now);
    mq_close(queue);
}

static void native_aio(void)
{
    aio_context_t context = 0;
    if (syscall(SYS_io_setup, 4, &context) != 0) return;
    int fd = open("/proc/self/exe", O_RDONLY);
    char *buffer = malloc(512);
    struct iocb block;
    memset(&block, 0, sizeof block);
    block.aio_lio_opcode = IOCB_CMD_PREAD;
    block.aio_fildes = (unsigned)fd;
    block.aio_buf = (unsigned long)buffer;
    block.aio_nbytes = 512;
    struct iocb *blocks[1] = { &block };
    struct io_event events[1];
    if (syscall(SYS_io_submit, context, 1, blocks) == 1 && syscall(SYS_io_getevents, context, 1, 1, events, NULL) == 1) {
        use("io_getevents", events, sizeof events);
        use("aio-pread", buffer, 512);
    }
    syscall(SYS_io_destroy, context);
    free(buffer);
    close(fd);
}

static void cross_memory(void)
{
    char source[16] = "across processes", target[16];
    struct iovec local = { target, sizeof target }, remote = { source, sizeof source };
    if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)sizeof target) use("process_vm_readv", target, sizeof target);
}

struct sched_attr_v1 {
    unsigned size, policy;
    unsigned long long flags;
    int nice;
    unsigned priority;
    unsigned long long runtime, deadline, period;
    unsigned util_min, util_max;
};

static void scheduling(void)
{
    struct sched_attr_v1 attr;
    if (syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0) use("sched_getattr", &attr, sizeof attr);
}

static void numa(void)
{
    int mode;
    unsigned long mask[2];
    if (syscall(SYS_get_mempolicy, &mode, mask, 129, NULL, 0) == 0) {
        use("get_mempolicy", &mode, sizeof mode);
        use("nodemask", mask, sizeof mask);
    }
}

static void file_handle(void)
{
    struct { unsigned handle_bytes; int handle_type; unsigned char f_handle[128]; } handle;
    handle.handle_bytes = sizeof handle.f_handle;
    int mount_id;
    if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/exe", &handle, &mount_id, 0) == 0) {
        use("name_to_handle_at", &handle, 8 + handle.handle_bytes);
        use("mount_id", &mount_id, sizeof mount_id);
    }
}

static long watched = 0x1234;

static void tracing(void)
{
    pid_t child = fork();
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0) raise(SIGSTOP);
        _exit(0);
    }
    int status;
    if (child < 0 || waitpid(child, &status, 0) != child) return;
    if (WIFSTOPPED(status)) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, child, &watched, NULL);
        if (errno == 0) use("ptrace-peekdata", &word, sizeof word);
        struct user_regs_struct regs;
        if (ptrace(PTRACE_GETREGS, child, NULL, &regs) == 0) use("ptrace-getregs", &regs, sizeof regs);
        /* GETREGSET into a larger buffer: the kernel writes the set and says how much in iov_len. */
        char *set = malloc(sizeof(struct user_regs_struct) + 64);
        struct iovec vector = { set, sizeof(struct user_regs_struct) + 64 };
        if (ptrace(PTRACE_GETREGSET, child, (void *)NT_PRSTATUS, &vector) == 0) use("ptrace-getregset", set, vector.iov_len);
        free(set);
        kill(child, SIGKILL);
    }
    waitpid(child, &status, 0);
}

int main(void)
{
    capabilities();
    residency();
    messages();
    semaphores();
    shared_memory();
    message_queue();
    native_aio();
    cross_memory();
    scheduling();
    numa();
    file_handle();
    tracing();
    char *control = malloc(4);
    use("control", control, 4);                                   /* LINE_CONTROL */
    free(control);
    printf("\n");
    return 0;
}
