using Checker.Engine.Native;
using System.Runtime.InteropServices;

namespace Checker.Engine.Syscalls;

/// <summary>
/// execve/execveat: the new program runs natively (following exec'd programs is a later step),
/// with the guest's signal mask, SIGPIPE disposition and RLIMIT_NOFILE rather than memcheck's.
/// An execve that should succeed is announced first (<see cref="GuestProcess.Execing"/>), so the
/// report and the JSON are written before this process becomes the new program; one that then
/// fails is announced too, and the guest goes on.
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
            if (announced)
            {
                // From here another program may write to the same output: memcheck's lines name their pid.
                _process.ForkedOrExeced = true;
                _process.OnExecing(program!);
            }
            long result = ExecNatively(r);
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
    private long ExecNatively(SyscallRequest r)
    {
        const int SigPipe = 13;
        // The host ignores SIGPIPE for itself; the new program must get the guest's disposition.
        bool restorePipe = !_process.KernelIgnored.Contains(SigPipe);
        if (restorePipe) SetKernelDisposition(SigPipe, SigDfl);
        HostSignalMask.Set(_process.Kernel, CurrentThread.SignalMask);
        _process.Descriptors?.BeforeExec(_process.Kernel);
        long result = PassThrough(r);
        _process.Descriptors?.AfterFailedExec(_process.Kernel);
        HostSignalMask.BlockAsynchronous(_process.Kernel);
        if (restorePipe) SetKernelDisposition(SigPipe, SigIgn);
        return result;
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
