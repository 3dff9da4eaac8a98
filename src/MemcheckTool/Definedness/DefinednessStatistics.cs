namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// What the definedness machinery cost, for <c>--stats</c>: the tool exits it takes (propagation,
/// switches to the propagating mode), the reports it makes and how many of them were repeats
/// counted without a callstack's symbols, and the fragments translated per mode.
/// </summary>
public sealed class DefinednessStatistics
{
    /// <summary>Instructions the propagating mode computed in C# (its jump-and-link exits).</summary>
    public long PropagationExits;
    /// <summary>Undefined reads of mode-0 code that moved the thread to the propagating mode.</summary>
    public long ModeSwitches;
    /// <summary>Undefined reads of mode-0 code propagated at once, leaving everything defined (no switch; <see cref="DefinednessChecks.TryPropagateAtSwitch"/>).</summary>
    public long PropagatedAtSwitch;
    /// <summary>Merged checks whose undefined bytes lay outside their read parts (no switch).</summary>
    public long MergedGapExits;
    /// <summary>Uses of undefined values reported (every occurrence, repeats included).</summary>
    public long Reports;
    /// <summary>Fragments translated in each mode (<see cref="DefinednessMode"/>).</summary>
    public readonly long[] TranslationsByMode = new long[3];
}
