/* System calls that read a structure as far as one of its own fields says (perf_event_open's
   attr->size) or by operation (seccomp): the bytes the kernel reads must be defined. Whether the
   calls succeed here (perf_event_paranoid, seccomp's actions) does not matter: the check is before. */
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    struct perf_event_attr *attr = malloc(sizeof *attr);
    memset(attr, 0, sizeof *attr);
    attr->size = sizeof *attr;
    attr->type = PERF_TYPE_SOFTWARE;
    attr->config = PERF_COUNT_SW_TASK_CLOCK;
    attr->disabled = 1;
    long fd = syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);          /* defined: no report */
    if (fd >= 0) close((int)fd);

    struct perf_event_attr *partly = malloc(sizeof *partly);
    memset(partly, 0, 64);                    /* the first version's 64 bytes only */
    partly->size = sizeof *partly;            /* while its size says the whole struct */
    partly->type = PERF_TYPE_SOFTWARE;
    long fd2 = syscall(SYS_perf_event_open, partly, 0, -1, -1, 0);       /* LINE_PERF */
    if (fd2 >= 0) close((int)fd2);

    unsigned action = SECCOMP_RET_KILL_PROCESS;
    long avail = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);   /* defined: no report */
    unsigned *undefined_action = malloc(sizeof *undefined_action);
    long avail2 = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, undefined_action);   /* LINE_SECCOMP */

    /* A filter program whose len was never set and whose filter is NULL: the kernel fails (EFAULT,
       EINVAL or EACCES) and installs nothing. */
    struct sock_fprog *program = malloc(sizeof *program);
    program->filter = NULL;
    long installed = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, program);   /* LINE_FILTER */

    printf("done %d\n", (avail == 0 || avail == -1) && (avail2 == 0 || avail2 == -1) && installed == -1);
    free(program);
    free(undefined_action);
    free(partly);
    free(attr);
    return 0;
}
