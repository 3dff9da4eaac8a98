namespace Checker.Symbols.Unwinding;

/// <summary>
/// A <see cref="FrameRule"/> (or its absence) in one non-zero 64-bit word, for lock-free caches.
/// Layout: bit 0 set (a word, never 0), bit 1 rule present, bit 2 CFA from rbp, bit 3 rbp saved,
/// bits 8-31 CFA offset, bits 32-47 return-address offset, bits 48-63 saved-rbp offset (signed).
/// A rule whose offsets do not fit packs as "no rule": the walker then uses the frame pointer.
/// </summary>
public static class PackedRule
{
    private const ulong Word = 1, Present = 2, FromRbp = 4, RbpSaved = 8;

    public static ulong Pack(FrameRule? rule)
    {
        if (rule is not FrameRule r
            || r.CfaOffset != (r.CfaOffset << 40 >> 40)
            || r.ReturnAddressOffset != (short)r.ReturnAddressOffset
            || r.SavedRbpOffset is long s && s != (short)s)
            return Word;
        ulong packed = Word | Present | (r.CfaFromRbp ? FromRbp : 0)
            | ((ulong)r.CfaOffset & 0xff_ffff) << 8
            | ((ulong)r.ReturnAddressOffset & 0xffff) << 32;
        if (r.SavedRbpOffset is long saved) packed |= RbpSaved | ((ulong)saved & 0xffff) << 48;
        return packed;
    }

    public static bool TryUnpack(ulong packed, out FrameRule rule)
    {
        if (!IsPresent(packed)) { rule = default; return false; }
        rule = new FrameRule(CfaFromRbp(packed), CfaOffset(packed), ReturnAddressOffset(packed),
            SavesRbp(packed) ? SavedRbpOffset(packed) : null);
        return true;
    }

    // The fields one at a time, for walkers that step without building a FrameRule.
    public static bool IsPresent(ulong packed) => (packed & Present) != 0;
    public static bool CfaFromRbp(ulong packed) => (packed & FromRbp) != 0;
    public static long CfaOffset(ulong packed) => (long)(packed << 32) >> 40;
    public static long ReturnAddressOffset(ulong packed) => (short)(packed >> 32);
    public static bool SavesRbp(ulong packed) => (packed & RbpSaved) != 0;
    public static long SavedRbpOffset(ulong packed) => (short)(packed >> 48);
}
