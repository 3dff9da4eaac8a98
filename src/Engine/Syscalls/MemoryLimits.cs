namespace Checker.Engine.Syscalls;

/// <summary>
/// The program's view of RLIMIT_AS and RLIMIT_DATA. memcheck's own reservations (the heap arena,
/// the shadow, the code region: tens of GiB of address space the program never asked for) live in
/// its process, so a limit the program sets on itself (a test of its out-of-memory paths, a
/// sandboxing library) would make memcheck's next mapping fail, not the program's: a library
/// loaded late for a callstack failed to map and memcheck died. The limits are therefore the
/// program's alone: read and set as the kernel checks them (soft not above hard; a hard limit
/// raised only with root's privilege), never handed to the kernel. The heap holds the program to
/// them (<see cref="HeapLimit"/>): an allocation that would take its live bytes past the lower
/// soft limit fails as natively, so a program that allocates until malloc fails still stops.
/// Mappings are held to RLIMIT_AS too (<see cref="Refuses"/>): mmap, mremap, brk and shmat fail
/// with ENOMEM where the guest's mappings would pass it, so a program that maps memory until the
/// kernel refuses (its own allocator, a runtime's heap) stops as natively instead of taking the
/// machine's memory. Not carried across an execve: the new program starts with memcheck's own limits.
/// </summary>
public sealed unsafe class MemoryLimits
{
    public const int RlimitData = 2, RlimitAs = 9;
    private const ulong Infinity = ulong.MaxValue;

    private readonly ulong[] _soft = [Infinity, Infinity], _hard = [Infinity, Infinity];

    /// <summary>The kernel's limits when memcheck started (what the program inherited).</summary>
    public MemoryLimits(KernelInterface kernel)
    {
        ulong* limit = stackalloc ulong[2];
        foreach (ulong resource in (ulong[])[RlimitData, RlimitAs])
        {
            if (kernel.Call(SyscallNumbers.Prlimit64, 0, (long)resource, 0, (long)limit) != 0) continue;
            (_soft[Index(resource)], _hard[Index(resource)]) = (limit[0], limit[1]);
        }
    }

    /// <summary>Whether <paramref name="resource"/> is one of these (the others go to the kernel).</summary>
    public static bool Covers(ulong resource) => resource is RlimitData or RlimitAs;

    public (ulong Soft, ulong Hard) Get(ulong resource) => (_soft[Index(resource)], _hard[Index(resource)]);

    /// <summary>setrlimit/prlimit64 by the program: 0, or -EINVAL / -EPERM as the kernel would refuse it.</summary>
    public long Set(ulong resource, ulong soft, ulong hard, bool privileged)
    {
        int i = Index(resource);
        if (soft > hard) return -Errno.EINVAL;
        if (hard > _hard[i] && !privileged) return -Errno.EPERM;
        (_soft[i], _hard[i]) = (soft, hard);
        return 0;
    }

    /// <summary>
    /// A tool's heap inside the guest's mappings: the bytes of them it has opened and the bytes the
    /// program holds (natively the heap's own mappings would be about the latter).
    /// </summary>
    public Func<(ulong Mapped, ulong Live)>? ToolHeap { get; set; }

    /// <summary>
    /// Whether <paramref name="more"/> bytes of new mappings would take the guest's address space,
    /// <paramref name="mapped"/> bytes now (<see cref="Memory.GuestMappings.MappedBytes"/>), past its
    /// soft RLIMIT_AS.
    /// </summary>
    public bool Refuses(ulong mapped, ulong more)
    {
        ulong limit = _soft[1];
        if (limit == Infinity || more == 0) return false;
        if (ToolHeap?.Invoke() is (ulong heapMapped, ulong live)) mapped = mapped - Math.Min(mapped, heapMapped) + live;
        return mapped + more < mapped || mapped + more > limit;
    }

    /// <summary>The most the program's live heap bytes may come to (the lower soft limit; <see cref="ulong.MaxValue"/>: none).</summary>
    public ulong HeapLimit => Math.Min(_soft[0], _soft[1]);

    private static int Index(ulong resource) => resource == RlimitData ? 0 : 1;
}
