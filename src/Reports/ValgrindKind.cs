using System.Globalization;

namespace Checker.Reports;

/// <summary>
/// How Valgrind's Memcheck names an error, so tools and files written for Valgrind read ours:
/// its XML <c>&lt;kind&gt;</c> (InvalidRead, UninitCondition, Leak_DefinitelyLost, ...) and its
/// suppression kind (<c>Addr4</c>, <c>Cond</c>, <c>Param</c>, <c>Leak</c>, ... after <c>Memcheck:</c>),
/// with the extra line some suppression kinds carry (<c>write(buf)</c> for Param, the leak kind for Leak).
/// </summary>
/// <param name="XmlKind">The XML protocol's kind.</param>
/// <param name="SuppressionKind">The suppression kind, without the tool's <c>Memcheck:</c>.</param>
/// <param name="Extra">The second line of a Param suppression (<c>write(buf)</c>), a FishyValue's
/// <c>malloc(size)</c>; for a leak, its kind for <c>match-leak-kinds:</c> (<c>definite</c>, <c>possible</c>).</param>
public sealed record ValgrindKind(string XmlKind, string SuppressionKind, string? Extra = null)
{
    /// <summary>
    /// The replaced allocator routine Valgrind's stack starts in, which memcheck's stack (from the
    /// program's call) does not show: <c>free</c> for an invalid free, <c>_Znwm</c> for a leak
    /// allocated by operator new, <c>malloc</c> for a fishy size. Suppressions match it as the
    /// innermost frame and generated ones write it first (<c>fun:malloc</c>), as Valgrind's do.
    /// </summary>
    public string? Routine { get; init; }

    /// <summary>An unaddressable read or write of <paramref name="size"/> bytes: InvalidRead/InvalidWrite, Addr1..Addr32 (Addr{size} for other sizes).</summary>
    public static ValgrindKind Access(bool write, ulong size) =>
        new(write ? "InvalidWrite" : "InvalidRead", "Addr" + size.ToString(CultureInfo.InvariantCulture));

    /// <summary>A jump or call to unaddressable code.</summary>
    public static readonly ValgrindKind Jump = new("InvalidJump", "Jump");

    /// <summary>A system call's parameter (register or memory) that is undefined or points to unaddressable bytes.</summary>
    public static ValgrindKind SyscallParam(string callAndParameter) => new("SyscallParam", "Param", callAndParameter);

    /// <summary>An undefined value deciding a conditional jump or move.</summary>
    public static readonly ValgrindKind Condition = new("UninitCondition", "Cond");

    /// <summary>An undefined value of <paramref name="size"/> bytes used as an address, a jump target, a divisor.</summary>
    public static ValgrindKind Value(int size) => new("UninitValue", "Value" + size.ToString(CultureInfo.InvariantCulture));

    /// <summary>free/delete of a pointer that is no (live) heap block: a double free, an interior pointer, not the heap.</summary>
    public static readonly ValgrindKind InvalidFree = new("InvalidFree", "Free");

    /// <summary>A block freed by another family than the one that allocated it.</summary>
    public static readonly ValgrindKind MismatchedFree = new("MismatchedFree", "Free");

    /// <summary>A size or alignment argument that cannot be meant (<c>malloc(size)</c>).</summary>
    public static ValgrindKind FishyValue(string callAndParameter) => new("FishyValue", "FishyValue", callAndParameter);

    /// <summary>A copy routine whose source and destination overlap.</summary>
    public static readonly ValgrindKind Overlap = new("Overlap", "Overlap");

    /// <summary>A leak record: definitely (definite), possibly (possible) or indirectly lost (indirect).</summary>
    public static ValgrindKind Leak(string leakKind) => new(leakKind switch
    {
        "possible" => "Leak_PossiblyLost",
        "indirect" => "Leak_IndirectlyLost",
        "reachable" => "Leak_StillReachable",
        _ => "Leak_DefinitelyLost",
    }, "Leak", leakKind);
}
