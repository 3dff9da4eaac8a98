using System.Buffers.Binary;
using System.Text;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// The guest's view of its own /proc/PID/task and /proc/PID/fd directories. memcheck runs inside
/// the guest's process, so the kernel lists memcheck's threads (the runtime's, the signal
/// listener) among the guest's and memcheck's descriptors among its files. A program that checks it
/// is single-threaded before forking (chromium's zygote: st_nlink of /proc/self/task is 3, else a
/// CHECK kills it), counts its threads, or closes every descriptor it lists (crashpad, warning at
/// each one memcheck keeps) would see them. So: the task directory's link count is 2 + the guest's
/// threads, and getdents64 of either directory leaves out the entries that are memcheck's.
/// </summary>
public sealed unsafe partial class SyscallEmulator
{
    private const int Fstat = 5, Lstat = 6, Getdents64 = 217;
    private const int StatNlinkOffset = 16, StatxNlinkOffset = 16;
    // st_mode (u32 at 24 in struct stat) and stx_mode (u16 at 28 in struct statx): only a directory is looked at further.
    private const int StatModeOffset = 24, StatxModeOffset = 28;
    private const uint ModeTypeMask = 0xF000, ModeDirectory = 0x4000;

    private void AddProcSelfViews()
    {
        // Stat, newfstatat and statx already go through the /proc/self/exe rewrite: wrap them.
        Func<SyscallRequest, long> stat = _table[SyscallNumbers.Stat], fstatat = _table[SyscallNumbers.Newfstatat], statx = _table[SyscallNumbers.Statx];
        _table[SyscallNumbers.Stat] = r => PatchTaskLinks(stat(r), AtFdcwd, r.A1, 0, r.A2, StatNlinkOffset, 8);
        _table[Lstat] = r => PatchTaskLinks(PassThrough(r), AtFdcwd, r.A1, 0, r.A2, StatNlinkOffset, 8);
        _table[Fstat] = r => PatchTaskLinks(PassThrough(r), (long)r.A1, 0, AtEmptyPath, r.A2, StatNlinkOffset, 8);
        _table[SyscallNumbers.Newfstatat] = r => PatchTaskLinks(fstatat(r), (long)r.A1, r.A2, r.A4, r.A3, StatNlinkOffset, 8);
        _table[SyscallNumbers.Statx] = r => PatchTaskLinks(statx(r), (long)r.A1, r.A2, r.A3, r.A5, StatxNlinkOffset, 4);
        _table[Getdents64] = FilteredGetdents;
    }

    /// <summary>After a successful stat of our task directory: its link count as the guest's threads make it.</summary>
    private long PatchTaskLinks(long result, long dirfd, ulong pathAddress, ulong flags, ulong statAddress, int offset, int width)
    {
        if (result != 0) return result;
        // Most stats are of files: the mode says so before any path is read (fstat would read a link each time).
        Span<byte> mode = stackalloc byte[2];
        if (!GuestMemory.TryRead(statAddress + (ulong)(width == 8 ? StatModeOffset : StatxModeOffset), mode)
            || (BinaryPrimitives.ReadUInt16LittleEndian(mode) & ModeTypeMask) != ModeDirectory) return result;
        if (Resolve(dirfd, pathAddress, flags) != OwnDirectory("task")) return result;
        ulong links = 2 + (ulong)_process.Threads.Live.Count;
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(value, links);
        GuestMemory.TryWrite(statAddress + (ulong)offset, value[..width]);
        return result;
    }

    /// <summary>getdents64: of our task or fd directory, without memcheck's threads or descriptors.</summary>
    private long FilteredGetdents(SyscallRequest r)
    {
        string? directory = Resolve((long)r.A1, 0, AtEmptyPath);
        bool tasks = directory == OwnDirectory("task"), fds = directory == OwnDirectory("fd");
        if (!tasks && !fds) return PassThrough(r);
        HashSet<long>? guestTids = tasks ? _process.Threads.Live.Select(t => (long)t.Tid).ToHashSet() : null;
        while (true)
        {
            long result = PassThrough(r);
            if (result <= 0) return result;
            byte[] records = new byte[result];
            if (!GuestMemory.TryRead(r.A2, records)) return result;
            byte[] kept = new byte[result];
            int length = 0;
            for (int at = 0; at + 19 <= records.Length;)
            {
                int size = BinaryPrimitives.ReadUInt16LittleEndian(records.AsSpan(at + 16, 2));
                if (size < 19 || at + size > records.Length) return result;   // not what the kernel writes: left alone
                ReadOnlySpan<byte> name = records.AsSpan(at + 19, size - 19);
                int end = name.IndexOf((byte)0);
                bool hide = long.TryParse(Encoding.ASCII.GetString(end >= 0 ? name[..end] : name), out long number)
                    && (tasks ? !guestTids!.Contains(number) : _process.IsToolDescriptor((ulong)number));
                if (!hide)
                {
                    records.AsSpan(at, size).CopyTo(kept.AsSpan(length));
                    length += size;
                }
                at += size;
            }
            // A batch of memcheck's entries only: the next one (0 would end the guest's listing early).
            if (length == 0) continue;
            GuestMemory.TryWrite(r.A2, kept.AsSpan(0, length));
            return length;
        }
    }

    private string OwnDirectory(string name) => $"/proc/{LibC.getpid()}/{name}";

    /// <summary>
    /// The absolute path a *at call names, with /proc/self and /proc/thread-self spelled with our
    /// pid, "." and ".." applied and no trailing slash; null when it cannot be known or cannot be
    /// one of our /proc directories (the common case, decided before anything is read but the path).
    /// </summary>
    private string? Resolve(long dirfd, ulong pathAddress, ulong flags)
    {
        string path = "";
        if (pathAddress != 0 && GuestMemory.TryReadCString(pathAddress, 512) is string given) path = given;
        else if ((flags & AtEmptyPath) == 0) return null;
        string full;
        if (path.StartsWith('/')) full = path;
        else
        {
            // Relative or empty: only a directory (or fd) that is itself under /proc can lead there.
            if (path.Length > 0 && !path.Contains("task", StringComparison.Ordinal) && !path.Contains("fd", StringComparison.Ordinal)) return null;
            string? directory = dirfd == AtFdcwd ? Environment.CurrentDirectory : LinkOf(dirfd);
            if (directory == null || !directory.StartsWith("/proc", StringComparison.Ordinal)) return null;
            full = path.Length == 0 ? directory : directory + "/" + path;
        }
        if (!full.StartsWith("/proc", StringComparison.Ordinal)) return null;
        var parts = new List<string>();
        foreach (string part in full.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        if (parts.Count >= 2 && parts[0] == "proc" && parts[1] == "self") parts[1] = LibC.getpid().ToString();
        else if (parts.Count >= 2 && parts[0] == "proc" && parts[1] == "thread-self")
        {
            parts[1] = LibC.getpid().ToString();
            parts.InsertRange(2, ["task", _process.Kernel.Call(SyscallNumbers.Gettid).ToString()]);
        }
        return "/" + string.Join('/', parts);
    }

    /// <summary>What /proc/self/fd/N links to (null if N is not open or not a path).</summary>
    private static string? LinkOf(long fd)
    {
        if (fd < 0) return null;
        byte* buffer = stackalloc byte[512];
        long n = LibC.readlink($"/proc/self/fd/{fd}", buffer, 512);
        return n > 0 && n < 512 ? Encoding.UTF8.GetString(buffer, (int)n) : null;
    }
}
