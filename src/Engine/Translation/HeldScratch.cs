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

    /// <summary>The register held now, or <see cref="Register.None"/>.</summary>
    public Register Held { get; private set; } = Register.None;

    /// <summary>Forgets any hold (a translation starts).</summary>
    public void Reset() => Held = Register.None;

    /// <summary>Before <paramref name="block"/>[<paramref name="i"/>] is emitted: reloads the held register if the run ends here.</summary>
    public void BeforeInstruction(CodeBuffer code, IReadOnlyList<Instruction> block, int i)
    {
        if (Held != Register.None && (!ContinuesRun(block, i) || (_registers.UsedRegisters(i) & Bit(Held)) != 0))
            Release(code);
    }

    /// <summary>
    /// The held register for the checks of <paramref name="block"/>[<paramref name="i"/>], spilling one
    /// now if none is held; <see cref="Register.None"/> when every candidate is used in the run.
    /// </summary>
    public Register Acquire(CodeBuffer code, IReadOnlyList<Instruction> block, int i)
    {
        if (Held != Register.None) return Held;
        int used = 0;
        for (int j = i; j < block.Count && ContinuesRun(block, j); j++) used |= _registers.UsedRegisters(j);
        foreach (Register candidate in Preference)
        {
            if ((used & Bit(candidate)) != 0) continue;
            code.StoreSlot(ContextOffsets.HeldScratch, candidate);
            return Held = candidate;
        }
        return Register.None;
    }

    /// <summary>Reloads the held register's guest value, if one is held.</summary>
    public void Release(CodeBuffer code)
    {
        if (Held == Register.None) return;
        code.LoadSlot(Held, ContextOffsets.HeldScratch);
        Held = Register.None;
    }

    private bool ContinuesRun(IReadOnlyList<Instruction> block, int i) =>
        IsStraight(block, i) || IsSideExit(block, i) && !PopFollows(block, i);

    private bool IsStraight(IReadOnlyList<Instruction> block, int i) =>
        block[i].FlowControl == FlowControl.Next && block[i].Code is not (Code.Syscall or Code.INVALID) && !_registers.SetsStackPointer(i);

    // A superblock's jcc before its last instruction: the translator reloads the register on the
    // taken path only (BlockTranslator's side-exit pads), so the run goes on along the fall-through
    // path. Ending runs there put a spill and reload around nearly every check of python's and
    // sqlite's hottest fragments (a branch every few instructions).
    private static bool IsSideExit(IReadOnlyList<Instruction> block, int i) => block[i].IsJccShortOrNear && i < block.Count - 1;

    /// <summary>
    /// Whether a pop of a general register follows side exit <paramref name="i"/> in its run: a tool
    /// may leave the fragment through a linked exit before pops (memcheck's pop probe, which it skips
    /// while a register is held), and runs that went past a branch must not make that happen more often.
    /// </summary>
    private bool PopFollows(IReadOnlyList<Instruction> block, int i)
    {
        for (int j = i + 1; j < block.Count; j++)
        {
            Instruction ins = block[j];
            if (ins.Mnemonic == Mnemonic.Pop && ins.Op0Kind == OpKind.Register) return true;
            if (!IsStraight(block, j) && !IsSideExit(block, j)) return false;
        }
        return false;
    }

    private static int Bit(Register full) => 1 << (full - Register.RAX);
}
