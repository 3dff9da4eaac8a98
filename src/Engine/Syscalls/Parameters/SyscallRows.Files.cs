using static Checker.Engine.Syscalls.Parameters.KernelStructs;
using static Checker.Engine.Syscalls.Parameters.Rules;

namespace Checker.Engine.Syscalls.Parameters;

internal static partial class SyscallRows
{
    private const ulong OCreat = 0x40, OTmpfile = 0x410000;
    private const ulong FGetLk = 5, FSetLk = 6, FSetLkW = 7, FOfdGetLk = 36, FOfdSetLk = 37, FOfdSetLkW = 38, FSetOwnEx = 15, FGetOwnEx = 16;

    /// <summary>fcntl commands that take no third argument (F_GETFD, F_GETFL, F_GETOWN, F_GETSIG, F_GETLEASE, F_GETPIPE_SZ, F_GET_SEALS).</summary>
    private static readonly ulong[] FcntlNoArgument = [1, 3, 9, 11, 1025, 1032, 1034];

    // struct flock: l_type 0, l_whence 2, l_start 8, l_len 16, l_pid 24 (F_SETLK ignores l_pid; the OFD locks require it to be 0).
    private static readonly StructField[] FlockFields = [new("l_type", 0, 2), new("l_whence", 2, 2), new("l_start", 8, 8), new("l_len", 16, 8)];
    private static readonly StructField[] OfdFlockFields = [.. FlockFields, new("l_pid", 24, 4)];

    private static readonly StructField[] FileHandleSizeField = [new("handle_bytes", 0, 4)];

    /// <summary>struct file_handle: handle_bytes and handle_type, then handle_bytes of f_handle.</summary>
    private static ulong FileHandleBytes(in SyscallCall c) => c.TryReadUInt32(c.Arg(c.Syscall.Name == "open_by_handle_at" ? 1 : 2), out uint n) ? 8 + Math.Min(n, 128u) : 4;

    /// <summary>open's mode (argument <paramref name="flags"/> + 1) is read only with O_CREAT or O_TMPFILE.</summary>
    private static ArgumentCount OpenArguments(int flags) =>
        args => (args.Length > flags && (args[flags] & OCreat) == 0 && (args[flags] & OTmpfile) != OTmpfile) ? flags + 1 : flags + 2;

    private static IEnumerable<SyscallDescription> Files() =>
    [
        Row(0, "read", "fd, buf, count", IoBuffer(1, 2, Writes)),
        Row(1, "write", "fd, buf, count", IoBuffer(1, 2, Reads)),
        Row(2, "open", "filename, flags, mode", CString(0)).Using(OpenArguments(1), "mode only with O_CREAT or O_TMPFILE"),
        Row(3, "close", "fd"),
        Row(4, "stat", "filename, statbuf", CString(0), Fixed(1, Stat, Writes)),
        Row(5, "fstat", "fd, statbuf", Fixed(1, Stat, Writes)),
        Row(6, "lstat", "filename, statbuf", CString(0), Fixed(1, Stat, Writes)),
        Row(8, "lseek", "fd, offset, whence"),
        Row(16, "ioctl", "fd, request, arg", Ioctl(1, 2)),
        Row(17, "pread64", "fd, buf, count, pos", IoBuffer(1, 2, Writes)),
        Row(18, "pwrite64", "fd, buf, count, pos", IoBuffer(1, 2, Reads)),
        Row(19, "readv", "fd, vector, vlen", IoVecArray(1, 2, Writes)),
        Row(20, "writev", "fd, vector, vlen", IoVecArray(1, 2, Reads)),
        Row(21, "access", "filename, mode", CString(0)),
        Row(22, "pipe", "fildes", Value(0, 8, Writes)),
        Row(32, "dup", "fildes"),
        Row(33, "dup2", "oldfd, newfd"),
        Row(40, "sendfile", "out_fd, in_fd, offset, count", Value(2, 8, ReadsThenWrites, optional: true)),
        Row(72, "fcntl", "fd, cmd, arg",
            When(1, [FGetLk], "cmd is F_GETLK", Fields(2, FlockFields, writtenBack: Flock)),
            When(1, [FOfdGetLk], "cmd is F_OFD_GETLK", Fields(2, OfdFlockFields, writtenBack: Flock)),
            When(1, [FSetLk, FSetLkW], "cmd is F_SETLK or F_SETLKW", Fields(2, FlockFields)),
            When(1, [FOfdSetLk, FOfdSetLkW], "cmd is F_OFD_SETLK or F_OFD_SETLKW", Fields(2, OfdFlockFields)),
            When(1, [FSetOwnEx], "cmd is F_SETOWN_EX", Value(2, 8, Reads)),
            When(1, [FGetOwnEx], "cmd is F_GETOWN_EX", Value(2, 8, Writes)))
            .Using(args => args.Length > 1 && FcntlNoArgument.Contains(args[1]) ? 2 : 3, "arg not for F_GETFD, F_GETFL and the other F_GET commands without one"),
        Row(73, "flock", "fd, cmd"),
        Row(74, "fsync", "fd"),
        Row(75, "fdatasync", "fd"),
        Row(76, "truncate", "path, length", CString(0)),
        Row(77, "ftruncate", "fd, length"),
        Row(78, "getdents", "fd, dirent, count", OutBuffer(1, 2)),
        Row(79, "getcwd", "buf, size", OutBuffer(0, 1)),
        Row(80, "chdir", "filename", CString(0)),
        Row(81, "fchdir", "fd"),
        Row(82, "rename", "oldname, newname", CString(0), CString(1)),
        Row(83, "mkdir", "pathname, mode", CString(0)),
        Row(84, "rmdir", "pathname", CString(0)),
        Row(85, "creat", "pathname, mode", CString(0)),
        Row(86, "link", "oldname, newname", CString(0), CString(1)),
        Row(87, "unlink", "pathname", CString(0)),
        Row(88, "symlink", "oldname, newname", CString(0), CString(1)),
        Row(89, "readlink", "path, buf, bufsiz", CString(0), OutBuffer(1, 2)),
        Row(90, "chmod", "filename, mode", CString(0)),
        Row(91, "fchmod", "fd, mode"),
        Row(92, "chown", "filename, user, group", CString(0)),
        Row(93, "fchown", "fd, user, group"),
        Row(94, "lchown", "filename, user, group", CString(0)),
        Row(95, "umask", "mask"),
        Row(132, "utime", "filename, times", CString(0), Fixed(1, Utimbuf, Reads, optional: true)),
        Row(133, "mknod", "filename, mode, dev", CString(0)),
        Row(137, "statfs", "pathname, buf", CString(0), Fixed(1, Statfs, Writes)),
        Row(138, "fstatfs", "fd, buf", Fixed(1, Statfs, Writes)),
        Row(161, "chroot", "filename", CString(0)),
        Row(162, "sync", ""),
        Row(165, "mount", "dev_name, dir_name, type, flags, data", CString(0, optional: true), CString(1), CString(2, optional: true)),
        Row(166, "umount2", "name, flags", CString(0)),
        Row(167, "swapon", "specialfile, swap_flags", CString(0)),
        Row(168, "swapoff", "specialfile", CString(0)),
        Row(187, "readahead", "fd, offset, count"),
        Row(188, "setxattr", "pathname, name, value, size, flags", CString(0), CString(1), Buffer(2, 3, Reads)),
        Row(189, "lsetxattr", "pathname, name, value, size, flags", CString(0), CString(1), Buffer(2, 3, Reads)),
        Row(190, "fsetxattr", "fd, name, value, size, flags", CString(1), Buffer(2, 3, Reads)),
        Row(191, "getxattr", "pathname, name, value, size", CString(0), CString(1), OutBuffer(2, 3)),
        Row(192, "lgetxattr", "pathname, name, value, size", CString(0), CString(1), OutBuffer(2, 3)),
        Row(193, "fgetxattr", "fd, name, value, size", CString(1), OutBuffer(2, 3)),
        Row(194, "listxattr", "pathname, list, size", CString(0), OutBuffer(1, 2)),
        Row(195, "llistxattr", "pathname, list, size", CString(0), OutBuffer(1, 2)),
        Row(196, "flistxattr", "fd, list, size", OutBuffer(1, 2)),
        Row(197, "removexattr", "pathname, name", CString(0), CString(1)),
        Row(198, "lremovexattr", "pathname, name", CString(0), CString(1)),
        Row(199, "fremovexattr", "fd, name", CString(1)),
        Row(217, "getdents64", "fd, dirent, count", OutBuffer(1, 2)),
        Row(221, "fadvise64", "fd, offset, len, advice"),
        Row(235, "utimes", "filename, utimes", CString(0), Fixed(1, TimevalPair, Reads, optional: true)),
        Row(253, "inotify_init", ""),
        Row(254, "inotify_add_watch", "fd, pathname, mask", CString(1)),
        Row(255, "inotify_rm_watch", "fd, wd"),
        Row(257, "openat", "dfd, filename, flags, mode", CString(1)).Using(OpenArguments(2), "mode only with O_CREAT or O_TMPFILE"),
        Row(258, "mkdirat", "dfd, pathname, mode", CString(1)),
        Row(259, "mknodat", "dfd, filename, mode, dev", CString(1)),
        Row(260, "fchownat", "dfd, filename, user, group, flag", CString(1)),
        Row(261, "futimesat", "dfd, filename, utimes", CString(1, optional: true), Fixed(2, TimevalPair, Reads, optional: true)),
        Row(262, "newfstatat", "dfd, filename, statbuf, flag", CString(1), Fixed(2, Stat, Writes)),
        Row(263, "unlinkat", "dfd, pathname, flag", CString(1)),
        Row(264, "renameat", "olddfd, oldname, newdfd, newname", CString(1), CString(3)),
        Row(265, "linkat", "olddfd, oldname, newdfd, newname, flags", CString(1), CString(3)),
        Row(266, "symlinkat", "oldname, newdfd, newname", CString(0), CString(2)),
        Row(267, "readlinkat", "dfd, pathname, buf, bufsiz", CString(1), OutBuffer(2, 3)),
        Row(268, "fchmodat", "dfd, filename, mode", CString(1)),
        Row(269, "faccessat", "dfd, filename, mode", CString(1)),
        Row(275, "splice", "fd_in, off_in, fd_out, off_out, len, flags",
            Value(1, 8, ReadsThenWrites, optional: true), Value(3, 8, ReadsThenWrites, optional: true)).ThirtyTwoBit(5),
        Row(276, "tee", "fdin, fdout, len, flags"),
        Row(277, "sync_file_range", "fd, offset, nbytes, flags"),
        // A NULL filename means dfd itself.
        Row(280, "utimensat", "dfd, filename, utimes, flags", CString(1, optional: true), Fixed(2, TimespecPair, Reads, optional: true)),
        Row(285, "fallocate", "fd, mode, offset, len"),
        Row(292, "dup3", "oldfd, newfd, flags"),
        Row(293, "pipe2", "fildes, flags", Value(0, 8, Writes)),
        Row(294, "inotify_init1", "flags"),
        Row(295, "preadv", "fd, vec, vlen, pos_l, pos_h", IoVecArray(1, 2, Writes)),
        Row(296, "pwritev", "fd, vec, vlen, pos_l, pos_h", IoVecArray(1, 2, Reads)),
        // name_to_handle_at: the kernel reads handle_bytes (the room there is), writes the handle and its size.
        Row(303, "name_to_handle_at", "dfd, name, handle, mnt_id, flag", CString(1), Fields(2, FileHandleSizeField),
            Sized(2, FileHandleBytes, "8 + its handle_bytes bytes (MAX_HANDLE_SZ 128 at most)", Writes), Value(3, 4, Writes)),
        Row(304, "open_by_handle_at", "mountdirfd, handle, flags", Sized(1, FileHandleBytes, "8 + its handle_bytes bytes (MAX_HANDLE_SZ 128 at most)", Reads)),
        Row(306, "syncfs", "fd"),
        Row(316, "renameat2", "olddfd, oldname, newdfd, newname, flags", CString(1), CString(3)),
        Row(319, "memfd_create", "uname, flags", CString(0)),
        Row(326, "copy_file_range", "fd_in, off_in, fd_out, off_out, len, flags",
            Value(1, 8, ReadsThenWrites, optional: true), Value(3, 8, ReadsThenWrites, optional: true)).ThirtyTwoBit(5),
        Row(327, "preadv2", "fd, vec, vlen, pos_l, pos_h, flags", IoVecArray(1, 2, Writes)).ThirtyTwoBit(5),
        Row(328, "pwritev2", "fd, vec, vlen, pos_l, pos_h, flags", IoVecArray(1, 2, Reads)).ThirtyTwoBit(5),
        Row(332, "statx", "dfd, filename, flags, mask, buffer", CString(1), Fixed(4, Statx, Writes)),
        Row(436, "close_range", "fd, max_fd, flags"),
        Row(437, "openat2", "dfd, filename, how, usize", CString(1), Buffer(2, 3, Reads)),
        Row(439, "faccessat2", "dfd, filename, mode, flags", CString(1)),
    ];
}
