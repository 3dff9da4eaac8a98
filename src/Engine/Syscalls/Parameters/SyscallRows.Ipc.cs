using Checker.Engine.Native;
using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

/// <summary>System V IPC (shared memory, semaphores, message queues), POSIX message queues and native AIO.</summary>
internal static partial class SyscallRows
{
    private const ulong IpcRmid = 0, IpcSet = 1, IpcStat = 2, IpcInfo = 3;
    private const ulong ShmStat = 13, ShmInfoCmd = 14, ShmStatAny = 15;
    private const ulong SemGetAll = 13, SemSetVal = 16, SemSetAll = 17, SemStat = 18, SemInfoCmd = 19, SemStatAny = 20;
    private const ulong MsgStat = 11, MsgInfoCmd = 12, MsgStatAny = 13;

    /// <summary>The command without IPC_64 (0x100), which some callers add and x86-64's kernel ignores.</summary>
    private static ulong IpcCommand(ulong cmd) => cmd & ~0x100UL;

    private static ParameterRule Command(int argument, ulong[] commands, string condition, params ParameterRule[] rules) =>
        When(argument, v => commands.Contains(IpcCommand(v)), condition, rules);

    /// <summary>semctl's cmds that take the fourth argument (the union semun); the others leave its register alone.</summary>
    private static int SemctlArguments(ReadOnlySpan<ulong> args) =>
        args.Length > 2 && IpcCommand(args[2]) is IpcStat or IpcSet or IpcInfo or SemStat or SemInfoCmd or SemStatAny or SemGetAll or SemSetAll or SemSetVal
            ? 4 : 3;

    private static ulong SemaphoreArrayBytes(in SyscallCall c) => LibC.SemaphoreCount((int)c.Arg(0)) * 2;

    private static readonly StructField[] MqAttrCreateFields = [new("mq_maxmsg", 8, 8), new("mq_msgsize", 16, 8)];
    private static readonly StructField[] MqAttrSetFields = [new("mq_flags", 0, 8)];
    private static readonly StructField[] IocbKeyField = [new("aio_key", 8, 4)];

    private static IEnumerable<SyscallDescription> Ipc() =>
    [
        Row(29, "shmget", "key, size, shmflg"),
        Row(30, "shmat", "shmid, shmaddr, shmflg"),
        Row(31, "shmctl", "shmid, cmd, buf",
            Command(1, [IpcStat, ShmStat, ShmStatAny], "cmd is IPC_STAT, SHM_STAT or SHM_STAT_ANY", Fixed(2, ShmidDs, Writes)),
            Command(1, [IpcSet], "cmd is IPC_SET", Fixed(2, ShmidDs, Reads)),
            Command(1, [IpcInfo], "cmd is IPC_INFO", Fixed(2, ShmInfo, Writes)),
            Command(1, [ShmInfoCmd], "cmd is SHM_INFO", Fixed(2, ShmUsage, Writes)))
            .Using(args => args.Length > 1 && IpcCommand(args[1]) == IpcRmid ? 2 : 3, "buf not with IPC_RMID"),
        Row(64, "semget", "key, nsems, semflg"),
        Row(65, "semop", "semid, tsops, nsops", Array(1, 2, SemBuf, Reads)),
        Row(66, "semctl", "semid, semnum, cmd, arg",
            Command(2, [IpcStat, SemStat, SemStatAny], "cmd is IPC_STAT, SEM_STAT or SEM_STAT_ANY", Fixed(3, SemidDs, Writes)),
            Command(2, [IpcSet], "cmd is IPC_SET", Fixed(3, SemidDs, Reads)),
            Command(2, [IpcInfo, SemInfoCmd], "cmd is IPC_INFO or SEM_INFO", Fixed(3, SemInfo, Writes)),
            Command(2, [SemGetAll], "cmd is GETALL", Sized(3, SemaphoreArrayBytes, "the set's semaphores x 2 bytes", Writes)),
            Command(2, [SemSetAll], "cmd is SETALL", Sized(3, SemaphoreArrayBytes, "the set's semaphores x 2 bytes", Reads)))
            .Using(SemctlArguments, "arg only with the cmds that take it"),
        Row(67, "shmdt", "shmaddr"),
        Row(68, "msgget", "key, msgflg"),
        Row(69, "msgsnd", "msqid, msgp, msgsz, msgflg", Message(1, 2, Reads)),
        Row(70, "msgrcv", "msqid, msgp, msgsz, msgtyp, msgflg", Message(1, 2, Writes)),
        Row(71, "msgctl", "msqid, cmd, buf",
            Command(1, [IpcStat, MsgStat, MsgStatAny], "cmd is IPC_STAT, MSG_STAT or MSG_STAT_ANY", Fixed(2, MsqidDs, Writes)),
            Command(1, [IpcSet], "cmd is IPC_SET", Fixed(2, MsqidDs, Reads)),
            Command(1, [IpcInfo, MsgInfoCmd], "cmd is IPC_INFO or MSG_INFO", Fixed(2, MsgInfo, Writes)))
            .Using(args => args.Length > 1 && IpcCommand(args[1]) == IpcRmid ? 2 : 3, "buf not with IPC_RMID"),
        Row(206, "io_setup", "nr_events, ctxp", Value(1, 8, ReadsThenWrites)),
        Row(207, "io_destroy", "ctx"),
        Row(208, "io_getevents", "ctx_id, min_nr, nr, events, timeout",
            Array(3, 2, IoEvent, Writes, sizedByResult: true), Fixed(4, Timespec, Reads, optional: true)),
        Row(209, "io_submit", "ctx_id, nr, iocbpp", IoControlBlocks(2, 1)),
        // Since Linux 5.x io_cancel fails with EINPROGRESS and leaves result alone; the event comes through io_getevents.
        Row(210, "io_cancel", "ctx_id, iocb, result", Fields(1, IocbKeyField), Fixed(2, IoEvent, Writes)),
        Row(220, "semtimedop", "semid, tsops, nsops, timeout", Array(1, 2, SemBuf, Reads), Fixed(3, Timespec, Reads, optional: true)),
        // The kernel reads only these two fields of the attributes (valgrind checks the same two).
        Row(240, "mq_open", "u_name, oflag, mode, u_attr", CString(0),
            When(1, v => (v & OCreat) != 0, "oflag has O_CREAT", Fields(3, MqAttrCreateFields, optional: true)))
            .Using(args => args.Length > 1 && (args[1] & OCreat) != 0 ? 4 : 2, "mode and u_attr only with O_CREAT"),
        Row(241, "mq_unlink", "u_name", CString(0)),
        Row(242, "mq_timedsend", "mqdes, u_msg_ptr, msg_len, msg_prio, u_abs_timeout",
            Buffer(1, 2, Reads), Fixed(4, Timespec, Reads, optional: true)),
        Row(243, "mq_timedreceive", "mqdes, u_msg_ptr, msg_len, u_msg_prio, u_abs_timeout",
            OutBuffer(1, 2), Value(3, 4, Writes, optional: true), Fixed(4, Timespec, Reads, optional: true)),
        Row(244, "mq_notify", "mqdes, u_notification", Fields(1, SigEventFields, optional: true)),
        Row(245, "mq_getsetattr", "mqdes, u_mqstat, u_omqstat", Fields(1, MqAttrSetFields, optional: true), Fixed(2, MqAttr, Writes, optional: true)),
        Row(333, "io_pgetevents", "ctx_id, min_nr, nr, events, timeout, usig",
            Array(3, 2, IoEvent, Writes, sizedByResult: true), Fixed(4, Timespec, Reads, optional: true),
            Value(5, 16, Reads, optional: true, label: "usig (struct __aio_sigset)")),
    ];
}
