namespace Checker.Engine.Memory;

/// <summary>
/// Hands out addresses in the guest code window (see <see cref="AddressSpaceLayout"/>) for mappings
/// that may hold code. A bump pointer: unmapped ranges are not reused, which is fine for the handful
/// of modules a program loads.
/// </summary>
public sealed class CodeWindow(ulong start, ulong end)
{
    private const ulong Alignment = 0x10000;
    private ulong _next = start;

    /// <summary>The next candidate address for <paramref name="length"/> bytes, or null when the window is full.</summary>
    public ulong? Candidate(ulong length)
    {
        ulong at = (_next + Alignment - 1) & ~(Alignment - 1);
        return at + length <= end ? at : null;
    }

    /// <summary>Records that [address, address+length) is now taken (or found occupied).</summary>
    public void Consume(ulong address, ulong length)
    {
        if (address + length > _next) _next = address + length;
    }
}
