namespace Checker.Symbols.Unwinding;

/// <summary>
/// The common shape of an x86-64 CFI row, reduced to arithmetic: CFA = (rbp or rsp) + offset; the
/// return address and (optionally) the caller's rbp are saved at fixed offsets from the CFA; the
/// caller's rsp is the CFA. Rows that need expressions or other registers have no rule.
/// </summary>
public readonly record struct FrameRule(bool CfaFromRbp, long CfaOffset, long ReturnAddressOffset, long? SavedRbpOffset);
