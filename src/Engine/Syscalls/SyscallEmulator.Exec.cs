using Checker.Engine.Native;
using System.Runtime.InteropServices;

namespace Checker.Engine.Syscalls;

/// <summary>
/// execve/execveat. An exec that should succeed is announced first (<see cref="GuestProcess.Execing"/>),
/// so the report and the JSON are written before this process becomes the new program; one that
/// then fails is announced too, and the guest goes on. The report layer may follow it
/// (<see cref="GuestProcess.FollowExec"/>, --trace-children): memcheck then execs itself to run the
/// new program; otherwise the program runs natively. Either way the new process gets the guest's
/// signal mask, SIGPIPE disposition and RLIMIT_NOFILE rather than memcheck's, and a vfork child
/// hands its memory writes to its parent first (<see cref="VforkChannel"/>).
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const int AtFdcwd = -100;
    private const ulong AtEmptyPath = 0x1000, AtEaccess = 0x200;
    private const int MaxPathBytes = 4096;

    private long Execve(SyscallRequest r) => Exec(r, AtFdcwd, pathArgument: 1, flags: 0);

    private long Execveat(SyscallRequest r) => Exec(r, (int)r.A1, pathArgument: 2, flags: r.A5);

    private long Exec(SyscallRequest r, int dirfd, int pathArgument, ulong flags)
    {
        // argv and envp follow the path: execve(path, argv, envp), execveat(dirfd, path, argv, envp, flags).
        ulong argv = Argument(r, pathArgument + 1), envp = Argument(r, pathArgument + 2);
        nint rewritten = 0;
        try
        {
            string? program;
            if ((flags & AtSymlinkNofollow) == 0 && NamesSelf(Argument(r, pathArgument)))
            {
                // execve("/proc/self/exe") re-runs the program, not memcheck: give the kernel the
                // executable's path (its AT_EXECFN then names the program), or our link to it once
                // the file is gone.
                program = _process.SelfExecutable.CurrentPath();
                if (program != null && !program.EndsWith(" (deleted)", StringComparison.Ordinal))
                    r = WithArgument(r, pathArgument, (ulong)(rewritten = Marshal.StringToCoTaskMemUTF8(program)));
                else
                    r = WithArgument(r, pathArgument, _process.SelfExecutable.LinkPath);
            }
            else
            {
                program = ExecTarget(dirfd, Argument(r, pathArgument), flags);
            }
            bool announced = program != null && LooksExecutable(dirfd, Argument(r, pathArgument), flags);
            FollowedExec? follow = announced && _process.FollowExec is { } decide
                ? decide(Request(dirfd, Argument(r, pathArgument), flags, program!, argv, envp))
                : null;
            if (announced)
            {
                // From here another program may write to the same output: memcheck's lines name their pid.
                _process.ForkedOrExeced = true;
                _process.OnExecing(program!);
                // A vfork child's parent sees its memory as it is now (natively they share it).
                _process.VforkParent?.Release(_process);
            }
            long result;
            if (follow == null) result = ExecNatively(r);
            else if ((result = ExecFollowed(follow, envp)) < 0)
            {
                follow.Failed((int)-result);
                result = ExecNatively(r);
            }
            // Back here only when the exec failed.
            if (announced) _process.OnExecFailed(program!, (int)-result);
            return result;
        }
        finally
        {
            if (rewritten != 0) Marshal.FreeCoTaskMem(rewritten);
        }
    }

    /// <summary>Passes the exec to the kernel with the guest's process state; back here only when it failed.</summary>
    private long ExecNatively(SyscallRequest r) => WithGuestExecState(() => PassThrough(r));

    /// <summary>memcheck execs itself to run the program (the guest's envp as given); back here only when that failed.</summary>
    private long ExecFollowed(FollowedExec follow, ulong envp)
    {
        using var arguments = new NativeStringVector(follow.Arguments());
        // The engine's kick blocked across the exec: one sent to this thread just before it (a signal
        // for the guest arriving on another thread kicks every guest thread) would otherwise be
        // delivered to the new memcheck before it has a handler, and kill it (exit 192). The new
        // memcheck unblocks it on its guest threads and takes it out of the program's mask.
        return WithGuestExecState(() => _process.Kernel.Call(SyscallNumbers.Execveat, follow.Descriptor, (long)arguments.Empty,
            (long)arguments.Address, (long)envp, (long)AtEmptyPath), blockKick: true);
    }

    /// <summary>Runs an exec with the process state the guest would exec with, and puts memcheck's back if it returns.</summary>
    private long WithGuestExecState(Func<long> exec, bool blockKick = false)
    {
        const int SigPipe = 13;
        // The host ignores SIGPIPE for itself; the new program must get the guest's disposition.
        bool restorePipe = !_process.KernelIgnored.Contains(SigPipe);
        if (restorePipe) SetKernelDisposition(SigPipe, SigDfl);
        HostSignalMask.Set(_process.Kernel, CurrentThread.SignalMask | (blockKick ? 1UL << (Dispatch.ThreadStopper.KickSignal - 1) : 0));
        _process.Descriptors?.BeforeExec(_process.Kernel);
        long result = exec();
        _process.Descriptors?.AfterFailedExec(_process.Kernel);
        HostSignalMask.BlockAsynchronous(_process.Kernel);
        if (restorePipe) SetKernelDisposition(SigPipe, SigIgn);
        return result;
    }

    /// <summary>What the report layer is asked about an exec it may follow.</summary>
    private ExecRequest Request(int dirfd, ulong pathAddress, ulong flags, string program, ulong argv, ulong envp)
    {
        const int FGetfd = 1, FdCloexec = 1;
        string? path = GuestMemory.TryReadCString(pathAddress, MaxPathBytes);
        string filename = program;
        string? loadPath = program;
        bool closed = false;
        // The kernel names a program reached through a descriptor /dev/fd/N[/PATH] (execveat's
        // rule); once the exec closes that descriptor, the new process can only find it by name.
        if (path != null && dirfd != AtFdcwd && !path.StartsWith('/'))
        {
            filename = path.Length == 0 && (flags & AtEmptyPath) != 0 ? $"/dev/fd/{dirfd}" : $"/dev/fd/{dirfd}/{path}";
            loadPath = filename;
            closed = (_process.Kernel.Call(SyscallNumbers.Fcntl, dirfd, FGetfd) & FdCloexec) != 0;
            if (closed) loadPath = program.StartsWith('/') && !program.EndsWith(" (deleted)", StringComparison.Ordinal) && File.Exists(program) ? program : null;
        }
        var (arguments, problem) = ExecVectors.Read(argv, "argument vector");
        if (problem == null && arguments!.Count == 0) problem = "its argument vector is empty";
        if (problem == null) problem = ExecVectors.Read(envp, "environment").Problem;
        return new ExecRequest(filename, loadPath, closed, problem == null ? arguments : null, problem);
    }

    /// <summary>The program an exec names, for the report ("the program execs X"); null if the path cannot be read (EFAULT).</summary>
    private string? ExecTarget(int dirfd, ulong pathAddress, ulong flags)
    {
        string? path = GuestMemory.TryReadCString(pathAddress, MaxPathBytes);
        if (path == null) return null;
        if (dirfd == AtFdcwd || path.StartsWith('/')) return path;
        string directory = LinkTarget($"/proc/self/fd/{dirfd}") ?? $"/proc/self/fd/{dirfd}";
        return path.Length == 0 && (flags & AtEmptyPath) != 0 ? directory : Path.Combine(directory, path);
    }

    /// <summary>
    /// Whether the kernel should take the exec: a regular file the process may execute. Checked so
    /// that execvp's walk along PATH (one failing execve per directory) writes no report; one that
    /// still fails (ENOEXEC, E2BIG) is announced as failed.
    /// </summary>
    private bool LooksExecutable(int dirfd, ulong pathAddress, ulong flags)
    {
        const uint TypeMask = 0xf000, Regular = 0x8000;
        const int XOk = 1, StatModeOffset = 24, StatSize = 144;
        byte* stat = stackalloc byte[StatSize];
        if (_process.Kernel.Call(SyscallNumbers.Newfstatat, dirfd, (long)pathAddress, (long)stat, (long)(flags & (AtEmptyPath | AtSymlinkNofollow))) != 0)
            return false;
        if ((*(uint*)(stat + StatModeOffset) & TypeMask) != Regular) return false;
        long access = _process.Kernel.Call(SyscallNumbers.Faccessat2, dirfd, (long)pathAddress, XOk, (long)(AtEaccess | (flags & AtEmptyPath)));
        if (access == -Errno.ENOSYS) access = _process.Kernel.Call(SyscallNumbers.Faccessat, dirfd, (long)pathAddress, XOk);
        return access == 0;
    }
}
