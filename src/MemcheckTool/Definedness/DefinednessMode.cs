namespace Checker.MemcheckTool.Definedness;

/// <summary>The translation modes memcheck asks the engine for (<see cref="Checker.Engine.Tools.Tool.ModeOf"/>).</summary>
public static class DefinednessMode
{
    /// <summary>
    /// Access checks (stores define, an undefined read switches to <see cref="Propagating"/>) for a
    /// thread whose general registers and flags are all defined: a block's guard tests only the
    /// vector, k and x87 registers it uses (most blocks have none), since the plain mode makes no
    /// general register undefined (a general-register copy that meets undefined bytes leaves for
    /// <see cref="Guarded"/>). Counted over sqlite's 456M guards, a general register or the flags
    /// were undefined at 0.8% of them, python's 0.001%, cc1plus's 0.4%: the registers that stay
    /// undefined are vector ones (sqlite's xmm6 for nearly the whole run), which a guard per block
    /// still sees. Guards ran at every fragment entry and their bytes cost sqlite ~9%.
    /// </summary>
    public const int Plain = 0;
    /// <summary>One block propagated instruction by instruction (pre-checks, inline moves, C#), then on in <see cref="Guarded"/>.</summary>
    public const int Propagating = 1;
    /// <summary>
    /// The plain mode behind a guard over every register the block uses (and the flags): the mode
    /// while some general register or the flags may be undefined. One translation whether or not
    /// some register is undefined: a register left undefined and never used again costs one guard
    /// per block, not a translation per set of undefined registers (cc1plus: 101,000 such
    /// fragments, half its code cache, when they were a mode of their own). Its indirect branches
    /// look up in <see cref="Plain"/>'s table once the general registers and flags are defined again.
    /// </summary>
    public const int Guarded = 2;

    /// <summary>Whether fragments of <paramref name="mode"/> run the plain mode's code (checks that define and switch; not propagating).</summary>
    public static bool IsPlain(int mode) => mode != Propagating;
}
