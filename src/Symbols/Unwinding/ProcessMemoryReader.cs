using Checker.Symbols.Native;

namespace Checker.Symbols.Unwinding;

/// <summary>
/// Reads the current process's own memory (the guest runs inside the tool's process) through
/// process_vm_readv on its own pid: an unmapped or protected address makes the call fail with
/// EFAULT instead of raising SIGSEGV in the tool. Thread-safe.
/// </summary>
public sealed unsafe class ProcessMemoryReader : IMemoryReader
{
    /// <summary>The reader of the current process.</summary>
    public static ProcessMemoryReader Current { get; } = new();

    public bool TryReadUInt64(ulong address, out ulong value)
    {
        ulong result = 0;
        bool ok = TryRead(address, new Span<byte>(&result, sizeof(ulong)));
        value = ok ? result : 0;
        return ok;
    }

    /// <summary>Copies <paramref name="destination"/>.Length bytes from <paramref name="address"/>; false unless all were readable.</summary>
    public bool TryRead(ulong address, Span<byte> destination)
    {
        if (destination.IsEmpty) return true;
        if (address + (ulong)destination.Length < address) return false; // wraps
        fixed (byte* buffer = destination)
        {
            var local = new LibC.IoVec { Base = (nint)buffer, Length = (nuint)destination.Length };
            var remote = new LibC.IoVec { Base = (nint)address, Length = (nuint)destination.Length };
            // getpid() each time, not a cached pid: in a forked child that would read the parent.
            return LibC.ProcessVmReadv(LibC.GetPid(), &local, 1, &remote, 1, 0) == destination.Length;
        }
    }
}
