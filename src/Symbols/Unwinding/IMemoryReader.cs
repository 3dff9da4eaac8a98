namespace Checker.Symbols.Unwinding;

/// <summary>
/// Reads the memory a callstack is walked over. Implementations must never fault on a bad address:
/// the registers and stack words being followed may be garbage.
/// </summary>
public interface IMemoryReader
{
    /// <summary>The little-endian 8 bytes at <paramref name="address"/> (any alignment); false when any of them is unreadable.</summary>
    bool TryReadUInt64(ulong address, out ulong value);
}
