using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// A scratch register for the access checks of a straight-line run where no register is dead:
/// spilled once to gs:[HeldScratch] before the first check and reloaded once where the run ends,
/// instead of a spill and reload around every check (hot loops indexing several arrays keep every
/// register live: numeric bench). The register is one no instruction of the run reads or writes,
/// so the program never sees the borrowed value. The run ends at the first instruction that is not
/// plain straight-line code (a superblock's inner jcc is: its taken path reloads the register out of
/// line), that sets rsp, or that uses the register.
/// <para>
/// While it is held the guest's value lives only in the context block. Faults in translated code
/// end the guest today; delivering them to a guest handler will have to reload it first. A tool
/// exit that leaves the fragment mid-run (memcheck's switch to the propagating mode at any check
/// of the run) gets it back in the dispatcher, from <see cref="CodeCache.Fragment.HeldRegisterAt"/>.
/// </para>
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class HeldScratch
{
    // rcx last: the flags-live check path spills rcx on its own.
    private static readonly Register[] Preference =
    [
        Register.RDX, Register.RSI, Register.RDI, Register.R8, Register.R9, Register.R10, Register.R11,
        Register.R12, Register.R13, Register.R14, Register.R15, Register.RAX, Register.RBX, Register.RCX,
    ];

    private readonly Liveness _registers;

    /// <param name="registers">The block's register facts (analyzed before the first instruction is emitted).</param>
    public HeldScratch(Liveness registers) => _registers = registers;

    /// <summary>
    /// Which instructions of the block the tool would check through the held register (set by the
    /// tool per block; null: any may). A run goes past a side exit only when one follows: otherwise
    /// the side exit's pad would only add code.
    /// </summary>
    public Func<int, bool>? Wanted { get; set; }

    /// <summary>The register held now, or <see cref="Register.None"/>.</summary>
    public Register Held { get; private set; } = Register.None;

    /// <summary>Forgets any hold (a translation starts).</summary>
    public void Reset() => Held = Register.None;

    /// <summary>Before <paramref name="block"/>[<paramref name="i"/>] is emitted: reloads the held register if the run ends here.</summary>
    public void BeforeInstruction(CodeBuffer code, ReadOnlySpan<Instruction> block, int i)
    {
        if (Held != Register.None && (!Continues(block, i, _pastSideExits) || (_registers.UsedRegisters(i) & Bit(Held)) != 0))
            Release(code);
    }

    /// <summary>
    /// The held register for the checks of <paramref name="block"/>[<paramref name="i"/>], spilling one
    /// now if none is held; <see cref="Register.None"/> when every candidate is used in the run.
    /// </summary>
    public Register Acquire(CodeBuffer code, ReadOnlySpan<Instruction> block, int i)
    {
        if (Held != Register.None) return Held;
        // Past side exits when a register is free that far, else up to the next branch as before: a
        // longer run leaves fewer candidates, and none means a spill around every check.
        foreach (bool pastSideExits in (ReadOnlySpan<bool>)[true, false])
        {
            int used = 0;
            for (int j = i; j < block.Length && Continues(block, j, pastSideExits); j++) used |= _registers.UsedRegisters(j);
            foreach (Register candidate in Preference)
            {
                if ((used & Bit(candidate)) != 0) continue;
                code.StoreSlot(ContextOffsets.HeldScratch, candidate);
                _pastSideExits = pastSideExits;
                return Held = candidate;
            }
        }
        return Register.None;
    }

    // Whether the run held now goes on past side exits (Acquire found a register free that far).
    private bool _pastSideExits;

    /// <summary>Reloads the held register's guest value, if one is held.</summary>
    public void Release(CodeBuffer code)
    {
        if (Held == Register.None) return;
        code.LoadSlot(Held, ContextOffsets.HeldScratch);
        Held = Register.None;
    }

    private bool Continues(ReadOnlySpan<Instruction> block, int i, bool pastSideExits) =>
        IsStraight(block, i) || pastSideExits && IsSideExit(block, i) && WorthGoingOn(block, i);

    // The block by reference, as a span: its list's interface indexer copied each Instruction per
    // question, and the run's scans ask per instruction (~2% of checked translation on cc1plus).
    private bool IsStraight(ReadOnlySpan<Instruction> block, int i) =>
        block[i].FlowControl == FlowControl.Next && block[i].Code is not (Code.Syscall or Code.INVALID) && !_registers.SetsStackPointer(i);

    // A superblock's jcc before its last instruction: the translator reloads the register on the
    // taken path only (BlockTranslator's side-exit pads), so the run goes on along the fall-through
    // path. Ending runs there put a spill and reload around nearly every check of python's and
    // sqlite's hottest fragments (a branch every few instructions).
    private static bool IsSideExit(ReadOnlySpan<Instruction> block, int i) => block[i].IsJccShortOrNear && i < block.Length - 1;

    /// <summary>
    /// Whether the run should go on past side exit <paramref name="i"/>: a check that wants the held
    /// register (<see cref="Wanted"/>) follows in it before any pop of a general register. A tool may
    /// leave the fragment through a linked exit before pops (memcheck's pop probe, which it skips
    /// while a register is held), and runs that went past a branch must not make that happen more often.
    /// </summary>
    private bool WorthGoingOn(ReadOnlySpan<Instruction> block, int i)
    {
        bool wanted = Wanted == null;
        for (int j = i + 1; j < block.Length; j++)
        {
            ref readonly Instruction ins = ref block[j];
            if (ins.Mnemonic == Mnemonic.Pop && ins.Op0Kind == OpKind.Register) return false;
            if (!IsStraight(block, j) && !IsSideExit(block, j)) return wanted;
            if (!wanted && Wanted!(j)) wanted = true;
        }
        return wanted;
    }

    private static int Bit(Register full) => 1 << (full - Register.RAX);
}
