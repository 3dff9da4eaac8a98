using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Memory;
using Checker.Engine.Native;

namespace Checker.Engine.Syscalls;

/// <summary>
/// vfork semantics for a child that is a copy. A CLONE_VM|CLONE_VFORK child (vfork, and glibc's
/// posix_spawn behind system() and popen()) shares its parent's memory while the parent waits for
/// it to exec or exit: posix_spawn's child writes the exec's errno into the parent's frame and
/// exits 127, and the parent returns that errno. Under memcheck the child cannot share memory (its
/// C# runtime would run on the parent's heap and stacks while the parent's other runtime threads
/// go on), so it is a fork, and this channel gives the parent what sharing gives: the parent waits
/// (as CLONE_VFORK would) until the child execs or exits, and just before either the child sends
/// its tool's journal (memcheck: its heap operations), which the parent repeats, and the guest pages it
/// changed, which the parent writes over its own.
/// </summary>
/// <remarks>
/// The changed pages are the ones /proc/self/pagemap shows as present, anonymous and mapped by the
/// child alone (PM_MMAP_EXCLUSIVE: written since the fork, copy-on-write broken) or swapped out, in
/// the child's writable guest mappings; page-cache pages (a private file mapping never written, a
/// shared mapping) are the same in both. The parent's guest memory cannot have changed meanwhile:
/// its only guest thread is the one waiting here. Page contents go through two pipes, so no ptrace
/// permission is needed. The parent stops waiting at end of file: the child's descriptors are
/// close-on-exec, so it sees that at the child's successful exec or at its exit or death, as the
/// kernel ends a vfork wait. Not carried over: mappings the child creates or removes, and its brk.
/// When the parent has other threads, a page they write during the child's life is one the child
/// holds alone too (the parent's write broke the copy-on-write), and sending it back would undo
/// their write (chromium's browser process, spawning its helpers while a dozen threads run, crashed
/// of it). Then only the mappings the vfork child can write under the kernel's rules are sent (<see
/// cref="SendOnlyWithin"/>: the waiting thread's stack, the child's own stack and the thread's TLS:
/// posix_spawn's child writes its stack, the waiting thread's frame and errno); no page-dirty
/// tracking tells the two apart (soft-dirty bits are not in every kernel: not in this machine's).
/// </remarks>
[SupportedOSPlatform("linux")]
public sealed unsafe class VforkChannel
{
    private const int OCloexec = 0x80000;
    private const int PageSize = 4096, HeaderBytes = 16;
    /// <summary>A record header's first word for the heap journal (its length follows); any other is a page address, 0 the end.</summary>
    private const ulong JournalTag = ulong.MaxValue;
    private const ulong Present = 1UL << 63, Swapped = 1UL << 62, FilePage = 1UL << 61, Exclusive = 1UL << 56;
    /// <summary>Pagemap entries read at a time (2 MiB of address space).</summary>
    private const int EntriesPerRead = 512;

    // Child to parent: page records, then an empty one. Parent to child: one byte, "written".
    private int _requestRead, _requestWrite, _replyRead, _replyWrite;

    private VforkChannel(int requestRead, int requestWrite, int replyRead, int replyWrite)
    {
        (_requestRead, _requestWrite, _replyRead, _replyWrite) = (requestRead, requestWrite, replyRead, replyWrite);
    }

    /// <summary>Both pipes, as memcheck's own close-on-exec descriptors; null if they cannot be made.</summary>
    public static VforkChannel? Open(GuestProcess process)
    {
        int* request = stackalloc int[2];
        int* reply = stackalloc int[2];
        if (LibC.pipe2(request, OCloexec) != 0) return null;
        if (LibC.pipe2(reply, OCloexec) != 0)
        {
            LibC.close(request[0]);
            LibC.close(request[1]);
            return null;
        }
        var channel = new VforkChannel(
            ToolDescriptor(process, request[0]), ToolDescriptor(process, request[1]),
            ToolDescriptor(process, reply[0]), ToolDescriptor(process, reply[1]));
        return channel;
    }

    /// <summary>
    /// In the parent after the fork: waits until the child has exec'd or exited, writing the pages it
    /// sends over ours; or until <paramref name="stopRequested"/> (a signal ends the process: the
    /// kernel's vfork wait is killable too).
    /// </summary>
    public void WaitForChild(GuestProcess process, Func<bool> stopRequested)
    {
        Close(ref _requestWrite, process);
        Close(ref _replyRead, process);
        _stopRequested = stopRequested;
        _tool = process.Tool;
        byte* header = stackalloc byte[HeaderBytes];
        byte[] scratch = new byte[PageSize];
        while (ReadFully(_requestRead, header, HeaderBytes))
        {
            ulong address = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(header, 8));
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(header + 8, 8));
            if (length == 0)
            {
                byte done = 1;
                WriteFully(_replyWrite, &done, 1);
                continue;
            }
            if (address == JournalTag)
            {
                // Before the pages: the heap opens arena pages the child's blocks may lie in.
                byte[] journal = new byte[length];
                fixed (byte* bytes = journal)
                    if (!ReadFully(_requestRead, bytes, journal.Length)) break;
                process.Tool.ReplayVforkJournal(journal);
                continue;
            }
            if (!Receive(address, length, scratch)) break;
        }
        Close(ref _requestRead, process);
        Close(ref _replyWrite, process);
    }

    // With other threads in the parent: addresses whose mappings alone are sent (null: every writable one).
    private ulong[]? _within;

    /// <summary>In the child: send only the changed pages of the mappings holding these addresses (0s skipped).</summary>
    public void SendOnlyWithin(params ulong[] addresses) => _within = [.. addresses.Where(a => a != 0)];

    /// <summary>In the child after the fork: keeps its ends (the parent's are closed).</summary>
    public void BecomeChild(GuestProcess process)
    {
        Close(ref _requestRead, process);
        Close(ref _replyWrite, process);
    }

    /// <summary>Gives up the channel without sending anything (a fork of the vfork child: the grandchild is not the one the parent waits for).</summary>
    public void Abandon(GuestProcess process)
    {
        Close(ref _requestWrite, process);
        Close(ref _replyRead, process);
        Close(ref _requestRead, process);
        Close(ref _replyWrite, process);
    }

    /// <summary>
    /// In the child, before an exec or the exit: sends the guest pages it changed and waits until the
    /// parent has written them. May run more than once (an exec that then fails, and the exit).
    /// </summary>
    public void Release(GuestProcess process)
    {
        if (_requestWrite < 0) return;
        _tool = process.Tool;
        if (process.Tool.TakeVforkJournal() is { } journal && !SendJournal(journal)) return;
        GuestMappings mappings = process.Mappings;
        int pagemap = HostProcess.OpenForTool("/proc/self/pagemap", OCloexec);
        if (pagemap >= 0)
        {
            try
            {
                foreach ((ulong start, ulong end, int prot) in Candidates(mappings))
                    if ((prot & GuestMappings.Write) != 0 && !SendChanged(pagemap, start, end)) return;
            }
            finally { LibC.close(pagemap); }
        }
        byte* last = stackalloc byte[HeaderBytes];
        new Span<byte>(last, HeaderBytes).Clear();
        if (!WriteFully(_requestWrite, last, HeaderBytes)) return;
        byte reply;
        ReadFully(_replyRead, &reply, 1);
    }

    private IEnumerable<(ulong Start, ulong End, int Prot)> Candidates(GuestMappings mappings) =>
        _within == null ? mappings.Ranges
            : _within.Where(a => mappings.RangeAt(a) != null)
                .Select(a => (mappings.RangeAt(a)!.Value.Start, mappings.RangeAt(a)!.Value.End, mappings.ProtectionAt(a) ?? 0))
                .Distinct().OrderBy(r => r.Start);

    private bool SendJournal(byte[] journal)
    {
        byte* header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(header, 8), JournalTag);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(header + 8, 8), (ulong)journal.Length);
        if (!WriteFully(_requestWrite, header, HeaderBytes)) return false;
        fixed (byte* bytes = journal) return WriteFully(_requestWrite, bytes, journal.Length);
    }

    /// <summary>Sends the changed pages of [start, end) in runs; false when the parent is gone.</summary>
    private bool SendChanged(int pagemap, ulong start, ulong end)
    {
        ulong* entries = stackalloc ulong[EntriesPerRead];
        ulong runStart = 0, runEnd = 0;
        for (ulong page = start & ~(ulong)(PageSize - 1); page < end; page += (ulong)EntriesPerRead * PageSize)
        {
            int count = (int)Math.Min((ulong)EntriesPerRead, (end - page + PageSize - 1) / PageSize);
            long read = LibC.pread(pagemap, (byte*)entries, (nuint)(count * 8), (long)(page / PageSize * 8));
            if (read <= 0) break;
            for (int i = 0; i < read / 8; i++)
            {
                ulong entry = entries[i], address = page + (ulong)i * PageSize;
                bool changed = (entry & Swapped) != 0 || (entry & (Present | Exclusive | FilePage)) == (Present | Exclusive);
                if (!changed) continue;
                if (address == runEnd && runEnd != 0) { runEnd += PageSize; continue; }
                if (runEnd != 0 && !Send(runStart, runEnd - runStart)) return false;
                (runStart, runEnd) = (address, address + PageSize);
            }
        }
        return runEnd == 0 || Send(runStart, runEnd - runStart);
    }

    private Tools.Tool? _tool;

    /// <summary>One record: address, length, the bytes (read through process_vm_readv, page by page: an unreadable page goes as zeros), each page followed by the tool's state of it.</summary>
    private bool Send(ulong address, ulong length)
    {
        int stateBytes = _tool?.VforkPageStateBytes ?? 0;
        byte[]? state = stateBytes > 0 ? new byte[stateBytes] : null;
        byte* header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(header, 8), address);
        BinaryPrimitives.WriteUInt64LittleEndian(new Span<byte>(header + 8, 8), length);
        if (!WriteFully(_requestWrite, header, HeaderBytes)) return false;
        byte* page = stackalloc byte[PageSize];
        for (ulong offset = 0; offset < length; offset += PageSize)
        {
            var bytes = new Span<byte>(page, PageSize);
            if (!GuestMemory.TryRead(address + offset, bytes)) bytes.Clear();
            if (!WriteFully(_requestWrite, page, PageSize)) return false;
            if (state == null) continue;
            _tool!.ReadVforkPageState(address + offset, state);
            fixed (byte* stateBytesAt = state)
                if (!WriteFully(_requestWrite, stateBytesAt, state.Length)) return false;
        }
        return true;
    }

    /// <summary>Reads a record's bytes into our own memory at the same address (a page we cannot write is read and dropped).</summary>
    private bool Receive(ulong address, ulong length, byte[] scratch)
    {
        int stateBytes = _tool?.VforkPageStateBytes ?? 0;
        byte[]? state = stateBytes > 0 ? new byte[stateBytes] : null;
        fixed (byte* buffer = scratch)
        {
            for (ulong offset = 0; offset < length; offset += PageSize)
            {
                if (!ReadFully(_requestRead, buffer, PageSize)) return false;
                bool written = GuestMemory.TryWrite(address + offset, scratch);
                if (state == null) continue;
                fixed (byte* stateAt = state)
                    if (!ReadFully(_requestRead, stateAt, state.Length)) return false;
                if (written) _tool!.WriteVforkPageState(address + offset, state);
            }
        }
        return true;
    }

    private Func<bool>? _stopRequested;

    /// <summary>
    /// Reads exactly <paramref name="length"/> bytes; false at end of file, on an error, or when a
    /// stop is requested meanwhile. Waits in poll (never restarted after a signal, unlike a read:
    /// the engine's kick has SA_RESTART), so a stop is seen within 100 ms.
    /// </summary>
    private bool ReadFully(int fd, byte* buffer, int length)
    {
        var poll = new LibC.PollFd { Fd = fd, Events = LibC.PollIn };
        for (int done = 0; done < length;)
        {
            if (_stopRequested?.Invoke() == true) return false;
            if (LibC.poll(&poll, 1, 100) <= 0) continue;
            long n = LibC.read(fd, buffer + done, (nuint)(length - done));
            if (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR) continue;
            if (n <= 0) return false;
            done += (int)n;
        }
        return true;
    }

    private static bool WriteFully(int fd, byte* buffer, int length)
    {
        for (int done = 0; done < length;)
        {
            long n = LibC.write(fd, buffer + done, (nuint)(length - done));
            if (n < 0 && Marshal.GetLastPInvokeError() == (int)Errno.EINTR) continue;
            if (n <= 0) return false;
            done += (int)n;
        }
        return true;
    }

    /// <summary>A pipe end as memcheck's own descriptor: in the descriptor range when there is one, else listed so the guest cannot close it.</summary>
    private static int ToolDescriptor(GuestProcess process, int fd)
    {
        if (process.Descriptors != null) return fd;
        // No range (JIT builds): moved out of the guest's low numbers, which posix_spawn's file actions may name.
        int high = HostProcess.DuplicateForTool(fd);
        if (high >= 0)
        {
            LibC.close(fd);
            fd = high;
        }
        process.ToolDescriptors.Add(fd);
        return fd;
    }

    private static void Close(ref int fd, GuestProcess process)
    {
        if (fd < 0) return;
        LibC.close(fd);
        process.ToolDescriptors.Remove(fd);
        fd = -1;
    }
}
