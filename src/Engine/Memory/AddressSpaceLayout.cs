namespace Checker.Engine.Memory;

/// <summary>
/// Where the engine puts things in the shared address space. Translated code re-encodes the
/// guest's RIP-relative operands and branches with rel32 displacements, so the code cache must lie
/// within +-2 GB of all guest code: non-PIE executables sit at their link address (0x400000 by
/// default), and everything else that holds code (PIE executables, the interpreter, shared libraries
/// the guest's ld.so maps, executable anonymous memory) is steered into the guest code window around
/// the cache (<see cref="CodeWindow"/>: first fit, lowest first; only an image's code must end in
/// reach, its data may run on above). Data mappings go wherever the kernel puts them.
/// </summary>
public static class AddressSpaceLayout
{
    /// <summary>Start of the window for guest modules and executable mappings (below: non-PIE executables).</summary>
    public const ulong GuestCodeWindowStart = 0x1000_0000;

    /// <summary>
    /// Code placed in the window ends by here: 2 GB above the cache's start, less
    /// <see cref="CodeReachMargin"/> (the window is derived from where the cache really is).
    /// </summary>
    public const ulong GuestCodeWindowEnd = CodeCacheStart + 0x8000_0000 - CodeReachMargin;

    /// <summary>Slack below the rel32 limit, so an operand's displacement past the end of code still reaches.</summary>
    public const ulong CodeReachMargin = 0x10_0000;

    /// <summary>The top of the 47-bit user address space (TASK_SIZE with 4-level paging).</summary>
    public const ulong UserAddressLimit = 0x7fff_ffff_f000;

    /// <summary>
    /// The code cache: routines, the indirect-branch table and fragments. It must end below 2 GB
    /// (translated code stores cache addresses as sign-extended imm32), so a fixed-address
    /// executable must end below it: non-PIE programs up to ~1.7 GB.
    /// </summary>
    public const ulong CodeCacheStart = 0x7000_0000;
    public const ulong CodeCacheSize = 0x0ff0_0000;

    /// <summary>The guest's brk heap: a private reservation, far from the code window.</summary>
    public const ulong BrkStart = 0x2_0000_0000;
    public const ulong BrkReservation = 0x10_0000_0000;

    /// <summary>The guest's main stack (placed by the kernel; it grows down).</summary>
    public const ulong StackSize = 64UL << 20;
}
