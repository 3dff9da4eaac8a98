using System.Runtime.Intrinsics.X86;

namespace Checker.Engine.State;

/// <summary>
/// Where the XSAVE standard format puts each state component on this CPU (CPUID leaf 0xD, sub-leaf
/// = component: EBX is the offset). The legacy area and the AVX upper halves are architectural, the
/// AVX-512 components are not: Intel places them after MPX's (opmask at 1088, zmm0-15 upper halves
/// at 1152, zmm16-31 at 1664), AMD's Zen 4, which has no MPX, at 832, 896 and 1408. Reading a k
/// register at Intel's offset on AMD gave the propagating mode a zero mask (every masked AVX-512
/// lane seen as masked off).
/// </summary>
public static class XsaveLayout
{
    /// <summary>XSTATE_BV in the XSAVE header: which components the image holds (others are in their initial state).</summary>
    public const int StateMask = 512;
    /// <summary>xmm0-15 in the legacy area.</summary>
    public const int Xmm = 160;
    /// <summary>The upper halves of ymm0-15 (component 2).</summary>
    public static readonly int YmmHigh = Offset(2, 576);
    /// <summary>k0-7, 8 bytes each (component 5).</summary>
    public static readonly int Opmask = Offset(5, 1088);
    /// <summary>The upper 256 bits of zmm0-15 (component 6).</summary>
    public static readonly int ZmmHigh = Offset(6, 1152);
    /// <summary>zmm16-31 whole (component 7).</summary>
    public static readonly int Hi16Zmm = Offset(7, 1664);

    /// <summary>The component's offset as this CPU reports it, or <paramref name="intel"/> where it reports none (no such component).</summary>
    private static int Offset(int component, int intel)
    {
        if (!X86Base.IsSupported) return intel;
        (int size, int offset, _, _) = X86Base.CpuId(0xD, component);
        return size != 0 && offset > 0 && offset + size <= ContextOffsets.XsaveAreaSize ? offset : intel;
    }
}
