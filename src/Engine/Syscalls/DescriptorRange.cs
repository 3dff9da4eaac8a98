using System.Runtime.Versioning;

namespace Checker.Engine.Syscalls;

/// <summary>
/// memcheck's own descriptors: the range [<see cref="Start"/>, <see cref="End"/>) at the top of
/// RLIMIT_NOFILE that the memcheck executable's descriptor functions (src/Memcheck/Native/
/// tool_descriptors.c) move everything the host opens into, less the descriptors that were already
/// open there when memcheck was executed (the program's, inherited). And the program's view of
/// RLIMIT_NOFILE, which keeps it below the range as Valgrind does: its hard limit is the range's
/// start, and its soft limit is what the kernel enforces for its own calls.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class DescriptorRange
{
    public const int RlimitNofile = 7;

    private readonly HashSet<int> _inherited;
    private readonly ulong _initialSoft, _initialHard;
    private bool _guestChangedLimit;

    public DescriptorRange(int start, int end, ulong initialSoft, ulong initialHard, IEnumerable<int> inherited)
    {
        if (start < 3 || end <= start) throw new ArgumentOutOfRangeException(nameof(start), $"bad descriptor range [{start}, {end})");
        Start = start;
        End = end;
        _initialSoft = initialSoft;
        _initialHard = initialHard;
        _inherited = [.. inherited];
        GuestSoft = Math.Min(initialSoft, (ulong)start);
        GuestHard = (ulong)start;
    }

    public int Start { get; }
    public int End { get; }

    /// <summary>The program's RLIMIT_NOFILE as it sees it (getrlimit): never above <see cref="Start"/>.</summary>
    public ulong GuestSoft { get; private set; }
    public ulong GuestHard { get; private set; }

    /// <summary>Whether <paramref name="fd"/> is memcheck's (in the range and not inherited).</summary>
    public bool IsTools(ulong fd) => fd >= (ulong)Start && fd < (ulong)End && !_inherited.Contains((int)fd);

    /// <summary>The program closed an inherited descriptor of the range: the number may become memcheck's.</summary>
    public void GuestClosed(ulong fd) => _inherited.Remove((int)fd);

    /// <summary>memcheck's descriptors as inclusive intervals, ascending (the range around the inherited ones).</summary>
    public IEnumerable<(ulong First, ulong Last)> ToolIntervals()
    {
        ulong from = (ulong)Start;
        foreach (int fd in _inherited.Order())
        {
            if ((ulong)fd > from) yield return (from, (ulong)fd - 1);
            from = (ulong)fd + 1;
        }
        if (from < (ulong)End) yield return (from, (ulong)End - 1);
    }

    /// <summary>From now on the kernel holds the program to its soft limit (memcheck's moves lift it for a moment).</summary>
    public void ApplyGuestLimit(KernelInterface kernel) => SetReal(kernel, GuestSoft, _initialHard);

    /// <summary>
    /// setrlimit(RLIMIT_NOFILE) by the program: the soft limit may not pass the hard one (EINVAL),
    /// the hard one never rises (EPERM: above it is memcheck's range; Valgrind refuses it too).
    /// </summary>
    public long GuestSet(KernelInterface kernel, ulong soft, ulong hard)
    {
        if (soft > hard) return -Errno.EINVAL;
        if (hard > GuestHard) return -Errno.EPERM;
        long result = SetReal(kernel, soft, _initialHard);
        if (result != 0) return result;
        (GuestSoft, GuestHard, _guestChangedLimit) = (soft, hard, true);
        return 0;
    }

    /// <summary>
    /// Before execve: the new program gets the limits the guest would have natively (memcheck's
    /// start values unless it changed them; a hard limit it lowered is lowered for real, which
    /// cannot be undone if the execve then fails: memcheck's later descriptors then stay low).
    /// </summary>
    public void BeforeExec(KernelInterface kernel)
    {
        if (!_guestChangedLimit) SetReal(kernel, _initialSoft, _initialHard);
        else SetReal(kernel, GuestSoft, GuestHard < (ulong)Start ? GuestHard : _initialHard);
    }

    /// <summary>The execve failed: the program's soft limit holds again.</summary>
    public void AfterFailedExec(KernelInterface kernel) => SetReal(kernel, GuestSoft, RealHard(kernel));

    private static unsafe ulong RealHard(KernelInterface kernel)
    {
        ulong* limit = stackalloc ulong[2];
        return kernel.Call(SyscallNumbers.Prlimit64, 0, RlimitNofile, 0, (long)limit) == 0 ? limit[1] : 0;
    }

    private static unsafe long SetReal(KernelInterface kernel, ulong soft, ulong hard)
    {
        ulong* limit = stackalloc ulong[2] { soft, hard };
        return kernel.Call(SyscallNumbers.Prlimit64, 0, RlimitNofile, (long)limit, 0);
    }
}
