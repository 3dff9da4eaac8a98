namespace Checker.Engine.Memory;

/// <summary>
/// Where the engine puts things in the shared address space.
/// <para>
/// Two regions. The guest's: everything below <see cref="HostRegionStart"/> (64 TiB): its images,
/// its stack, its brk, the heap arena its malloc draws from, and every mapping it makes (non-fixed
/// mmaps are placed here by the engine, top-down below the stack as the kernel would). memcheck's
/// own: everything above, where the kernel puts the host's mappings top-down from near 2^47 (the
/// runtime's heap, its libraries, the 32 TiB shadow, context blocks); the shadow of that region is
/// PROT_NONE, so a checked guest access there faults in its check and is reported, and the guest
/// can neither reach nor corrupt the tool's state. The code cache is the one piece of memcheck's
/// inside the guest's region (it must be near guest code); its shadow is PROT_NONE too.
/// </para>
/// <para>
/// Translated code keeps the guest's RIP-relative operands as rel32 displacements, so the code cache
/// must lie within +-2 GB of guest code: non-PIE executables sit at their link address (0x400000 by
/// default), and everything else that holds code (PIE executables, the interpreter, shared libraries
/// the guest's ld.so maps, executable anonymous memory) is steered into the guest code window around
/// the cache (<see cref="CodeWindow"/>: first fit, lowest first; only an image's code must end in
/// reach, its data may run on above).
/// </para>
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

    /// <summary>memcheck's own memory is at and above this address; the guest's below.</summary>
    public const ulong HostRegionStart = 0x4000_0000_0000;

    /// <summary>The top of the guest's main stack, just below the host region (the kernel puts it near 2^47).</summary>
    public const ulong GuestStackTop = 0x3fff_f000_0000;
    /// <summary>The main stack's size when RLIMIT_STACK is unlimited, and the most it may be.</summary>
    public const ulong MaxStackSize = 1UL << 30;
    /// <summary>Nothing is mapped in this much below the stack's limit (the kernel's stack_guard_gap: 256 pages).</summary>
    public const ulong StackGuardGap = 1UL << 20;

    /// <summary>The heap arena of the replacement malloc (guest data, in the guest region).</summary>
    public const ulong HeapArenaStart = 0x1000_0000_0000;

    /// <summary>The guest's non-fixed mmaps go top-down from below the stack's guard gap down to here.</summary>
    public const ulong GuestMmapFloor = 0x20_0000_0000;
}
