namespace Checker.MemcheckTool.Definedness;

/// <summary>The translation modes memcheck asks the engine for (<see cref="Checker.Engine.Tools.Tool.ModeOf"/>).</summary>
public static class DefinednessMode
{
    /// <summary>Every register defined: access checks only (stores define, an undefined read switches modes).</summary>
    public const int Plain = 0;
    /// <summary>One block propagated instruction by instruction (pre-checks, inline moves, C#), then back to the dispatcher.</summary>
    public const int Propagating = 1;
    /// <summary>
    /// Some register undefined: mode-0 code behind a guard at the block's start that sends the
    /// thread to the propagating mode for this block when the block uses an undefined register (so a
    /// register left undefined and never used again costs one check per block).
    /// </summary>
    public const int Guarded = 2;
}
