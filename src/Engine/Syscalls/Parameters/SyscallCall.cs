namespace Checker.Engine.Syscalls.Parameters;

/// <summary>
/// One call being described: the row, its argument registers, guest memory to follow pointers
/// through, the result (after the call) and the list ranges go to. Rules get it by reference.
/// </summary>
internal readonly ref struct SyscallCall
{
    public readonly SyscallDescription Syscall;
    public readonly ReadOnlySpan<ulong> Args;
    public readonly IGuestMemoryReader Memory;
    public readonly long Result;
    private readonly List<SyscallMemoryRange> _into;

    public SyscallCall(SyscallDescription syscall, ReadOnlySpan<ulong> args, IGuestMemoryReader memory, long result, List<SyscallMemoryRange> into)
    {
        Syscall = syscall;
        Args = args;
        Memory = memory;
        Result = result;
        _into = into;
    }

    /// <summary>Argument <paramref name="index"/> (0 when the caller passed fewer: the kernel would see whatever is in the register).</summary>
    public ulong Arg(int index) => index < Args.Length ? Args[index] : 0;

    /// <summary>Adds "name(label)"; a length of 0 adds nothing (the kernel touches no memory).</summary>
    public void Add(string label, ulong address, ulong length, KernelAccess access)
    {
        if (length == 0) return;
        // A range that would wrap past 2^64 ends at 2^64: its start is what the tool reports.
        if (address + length < address) length = 0 - address;
        _into.Add(new SyscallMemoryRange($"{Syscall.Name}({label})", address, length, access));
    }

    public void Add(string label, ulong address, ulong length, ParameterAccess access, bool after)
    {
        if (after)
        {
            if (access != ParameterAccess.Reads) Add(label, address, length, KernelAccess.Writes);
        }
        else
        {
            Add(label, address, length, access == ParameterAccess.Writes ? KernelAccess.Writes : KernelAccess.Reads);
        }
    }

    public bool TryReadUInt64(ulong address, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        bool ok = Memory.TryRead(address, b);
        value = ok ? BitConverter.ToUInt64(b) : 0;
        return ok;
    }

    public bool TryReadUInt32(ulong address, out uint value)
    {
        Span<byte> b = stackalloc byte[4];
        bool ok = Memory.TryRead(address, b);
        value = ok ? BitConverter.ToUInt32(b) : 0;
        return ok;
    }

    public bool TryReadUInt16(ulong address, out ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        bool ok = Memory.TryRead(address, b);
        value = ok ? BitConverter.ToUInt16(b) : (ushort)0;
        return ok;
    }

    /// <summary>
    /// How many bytes the kernel reads of the NUL-terminated string at <paramref name="address"/>:
    /// up to and including the NUL, or up to and including the first unreadable byte (so a NULL or
    /// wild pointer gives one byte for the tool to report), or <paramref name="max"/>.
    /// </summary>
    public ulong StringLength(ulong address, ulong max)
    {
        Span<byte> chunk = stackalloc byte[256];
        ulong scanned = 0;
        while (scanned < max)
        {
            ulong at = address + scanned;
            // Chunks never cross a page, so an unreadable page ends the scan where it starts.
            ulong toPage = 4096 - (at & 4095);
            int length = (int)Math.Min(Math.Min((ulong)chunk.Length, toPage), max - scanned);
            if (!Memory.TryRead(at, chunk[..length])) return scanned + 1;
            int nul = chunk[..length].IndexOf((byte)0);
            if (nul >= 0) return scanned + (ulong)nul + 1;
            scanned += (ulong)length;
        }
        return max;
    }
}
