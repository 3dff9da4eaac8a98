namespace Checker.MemcheckTool.Definedness;

/// <summary>The translation modes memcheck asks the engine for (<see cref="Checker.Engine.Tools.Tool.ModeOf"/>).</summary>
public static class DefinednessMode
{
    /// <summary>
    /// Access checks (stores define, an undefined read switches to <see cref="Propagating"/>) behind
    /// a guard at the block's start that sends the thread to the propagating mode for this block when
    /// the block uses an undefined register. One translation whether or not some register is
    /// undefined: a register left undefined and never used again (a vector register a struct copy
    /// filled from padding) costs one guard per block, not a second translation of every block run
    /// meanwhile (cc1plus: 101,000 such fragments, half its code cache, when they were a mode of their own).
    /// </summary>
    public const int Plain = 0;
    /// <summary>One block propagated instruction by instruction (pre-checks, inline moves, C#), then back to the plain mode.</summary>
    public const int Propagating = 1;
}
