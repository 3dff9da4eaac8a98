using System.Globalization;
using Checker.Engine.Native;
using System.Text;

namespace Checker.Engine.Syscalls;

/// <summary>
/// The thread count in the process's own /proc/PID/status ("Threads:") and /proc/PID/stat
/// (num_threads, field 20), and in its tasks' copies, as the guest's threads make it: the kernel
/// counts memcheck's threads too (the runtime's, the signal listener), so a program that counts its
/// threads (chromium's base::GetNumberOfThreads, test suites checking a pool has stopped) saw
/// several more. Opening one of these files read-only gives a memfd holding the kernel's text as
/// read at the open with that number replaced; programs open and read them in one go.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const ulong OpenAccessMode = 3, OpenCloexec = 0x80000;
    private const int MemfdCreate = 319, Lseek = 8;
    private const uint MfdCloexec = 1;

    private void AddThreadCountViews()
    {
        Func<SyscallRequest, long> open = _table[SyscallNumbers.Open], openat = _table[SyscallNumbers.Openat];
        _table[SyscallNumbers.Open] = r => OpenThreadCountView(AtFdcwd, r.A1, r.A2) ?? open(r);
        _table[SyscallNumbers.Openat] = r => OpenThreadCountView((long)r.A1, r.A2, r.A3) ?? openat(r);
    }

    /// <summary>A memfd with the patched text when the path is one of ours read-only; null to open as asked.</summary>
    private long? OpenThreadCountView(long dirfd, ulong pathAddress, ulong flags)
    {
        if ((flags & OpenAccessMode) != 0 || pathAddress == 0) return null;
        // Cheap refusals first: every open of the program goes through here.
        if (GuestMemory.TryReadCString(pathAddress, 512) is not string given || !given.EndsWith("stat", StringComparison.Ordinal)
            && !given.EndsWith("status", StringComparison.Ordinal)) return null;
        string? path = Resolve(dirfd, pathAddress, 0);
        if (path == null || !IsOwnCountFile(path)) return null;
        byte[] text;
        try { text = File.ReadAllBytes(path); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
        byte[]? patched = WithThreadCount(text, path.EndsWith("status", StringComparison.Ordinal), _process.Threads.Live.Count);
        return patched == null ? null : MemoryFile(patched, (flags & OpenCloexec) != 0);
    }

    /// <summary>/proc/PID/stat, /proc/PID/status, /proc/PID/task/TID/stat or status, for our pid and a thread of ours.</summary>
    private bool IsOwnCountFile(string path)
    {
        string own = $"/proc/{LibC.getpid()}/";
        if (!path.StartsWith(own, StringComparison.Ordinal)) return false;
        string rest = path[own.Length..];
        if (rest is "stat" or "status") return true;
        string[] parts = rest.Split('/');
        return parts.Length == 3 && parts[0] == "task" && parts[2] is "stat" or "status"
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int tid)
            && _process.Threads.Live.Any(t => t.Tid == tid);
    }

    /// <summary>
    /// <paramref name="text"/> with its thread count set to <paramref name="threads"/>: status's
    /// "Threads:" line, or stat's 20th field (counted after the command's closing parenthesis, since
    /// the command may hold spaces and parentheses). Null when the text is not as the kernel writes it.
    /// </summary>
    public static byte[]? WithThreadCount(byte[] text, bool status, int threads)
    {
        string s = Encoding.Latin1.GetString(text);
        string count = threads.ToString(CultureInfo.InvariantCulture);
        if (status)
        {
            int line = s.StartsWith("Threads:", StringComparison.Ordinal) ? 0 : s.IndexOf("\nThreads:", StringComparison.Ordinal) + 1;
            if (line <= 0 && !s.StartsWith("Threads:", StringComparison.Ordinal)) return null;
            int value = line + "Threads:".Length;
            while (value < s.Length && s[value] is '\t' or ' ') value++;
            int end = s.IndexOf('\n', value);
            if (end < 0) end = s.Length;
            return Encoding.Latin1.GetBytes(s[..value] + count + s[end..]);
        }
        int close = s.LastIndexOf(')');
        if (close < 0) return null;
        // After ") ": state is field 3, so num_threads (field 20) is the 18th.
        int at = close + 1;
        for (int field = 3; field < 20; field++)
        {
            at = s.IndexOf(' ', at + 1);
            if (at < 0) return null;
        }
        int start = at + 1, stop = s.IndexOf(' ', start);
        if (stop < 0) return null;
        return Encoding.Latin1.GetBytes(s[..start] + count + s[stop..]);
    }

    /// <summary>A new descriptor of the guest's (the lowest free, as open gives) reading <paramref name="content"/> from its start.</summary>
    private long MemoryFile(byte[] content, bool closeOnExec)
    {
        byte[] name = "proc-view\0"u8.ToArray();
        long fd;
        fixed (byte* n = name) fd = _process.Kernel.Call(MemfdCreate, (ulong)n, closeOnExec ? MfdCloexec : 0);
        if (KernelInterface.IsError(fd)) return fd;
        fixed (byte* c = content)
        {
            long written = _process.Kernel.Call(SyscallNumbers.Write, (ulong)fd, (ulong)c, (ulong)content.Length);
            if (written != content.Length)
            {
                _process.Kernel.Call(SyscallNumbers.Close, (ulong)fd);
                return KernelInterface.IsError(written) ? written : -Errno.EAGAIN;
            }
        }
        _process.Kernel.Call(Lseek, (ulong)fd, 0, 0);
        return fd;
    }
}
