namespace Checker.Symbols.Elf;

/// <summary>A segment's permissions (p_flags: PF_X, PF_W, PF_R).</summary>
[Flags]
public enum ElfSegmentFlags : uint
{
    None = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
}
