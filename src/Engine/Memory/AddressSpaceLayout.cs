namespace Checker.Engine.Memory;

/// <summary>
/// Where the engine puts things in the shared address space. Translated code re-encodes the
/// guest's RIP-relative operands and branches with rel32 displacements, so the code cache must lie
/// within +-2 GB of all guest code: non-PIE executables sit at their link address (0x400000 by
/// default), and everything else that holds code (PIE executables, the interpreter, shared libraries
/// the guest's ld.so maps, executable anonymous memory) is steered into the guest code window below
/// the cache. Data mappings go wherever the kernel puts them.
/// </summary>
public static class AddressSpaceLayout
{
    /// <summary>Start of the window for guest modules and executable mappings.</summary>
    public const ulong GuestCodeWindowStart = 0x1000_0000;
    public const ulong GuestCodeWindowEnd = 0x7000_0000;

    /// <summary>The code cache: routines, the indirect-branch table and fragments.</summary>
    public const ulong CodeCacheStart = 0x7000_0000;
    public const ulong CodeCacheSize = 0x0ff0_0000;

    /// <summary>The guest's brk heap: a private reservation, far from the code window.</summary>
    public const ulong BrkStart = 0x2_0000_0000;
    public const ulong BrkReservation = 0x10_0000_0000;

    /// <summary>The guest's main stack (placed by the kernel; it grows down).</summary>
    public const ulong StackSize = 64UL << 20;
}
