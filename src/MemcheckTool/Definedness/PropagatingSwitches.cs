using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The plain mode's rare switches to the propagating mode (a block's guard found an undefined
/// register, a pop run's probe an undefined slot), kept out of the block's straight line: the probe
/// jumps to its switch with a <c>jnz rel32</c> or <c>jmp rel32</c> that the usual path does not
/// take, and the switches are emitted after the block's last instruction
/// (<see cref="Engine.Tools.BlockInstrumenter.EmitSideExits"/>). cc1plus under memcheck is bound by
/// fetching its instrumented code: the same number of samples landed on a same-length nop as on the
/// guard, and taking the guard's switch (a jump over it) out of the line took 7-12% off its samples
/// in the code cache. A switch sets the forced bit (flag-free through rcx when the flags are live,
/// rcx's value then kept in a dead register or gs:[PrecheckSaveRcx]), gives a held register its
/// guest value back and exits to the instruction at its pc in the propagating mode.
/// </summary>
public sealed class PropagatingSwitches
{
    private readonly record struct Switch(int FirstField, int Fields, ulong Pc, bool FlagsLive, Register Keeper, Register Held);

    private readonly List<int> _fields = [];
    private readonly List<Switch> _switches = [];
    private int _open;

    private static readonly MemoryOperand TopByte = ContextOperand.Slot(MemcheckSlots.Dirty + 7);
    private const byte ForcedInTopByte = 1 << (ShadowRegisters.ForcedBit - 56);

    public void Reset()
    {
        _fields.Clear();
        _switches.Clear();
        _open = 0;
    }

    /// <summary><c>jnz rel32</c> to the switch being described (taken when the flags say undefined).</summary>
    public void JumpIfNotZero(CodeBuffer code)
    {
        code.Byte(0x0F);
        code.Byte(0x85);
        Field(code);
    }

    /// <summary><c>jmp rel32</c> to the switch being described.</summary>
    public void Jump(CodeBuffer code)
    {
        code.Byte(0xE9);
        Field(code);
    }

    /// <summary>A rel32 field of a jump to the switch being described, already emitted at <paramref name="offset"/> (a template's copy).</summary>
    public void JumpField(int offset) => _fields.Add(offset);

    // Never patched after the fragment is written: no alignment for the field.
    private void Field(CodeBuffer code)
    {
        _fields.Add(code.Length);
        code.Int32(0);
    }

    /// <summary>
    /// Ends the description of a switch the jumps since the last one go to: at <paramref name="pc"/>,
    /// with the flags live or not, rcx kept in <paramref name="keeper"/> (as
    /// <see cref="PropagationEmitter.EmitBefore"/>'s), <paramref name="held"/> the register held in
    /// gs:[HeldScratch] there (None: none).
    /// </summary>
    public void Add(ulong pc, bool flagsLive, Register keeper = Register.None, Register held = Register.None)
    {
        if (_fields.Count == _open) return;
        _switches.Add(new Switch(_open, _fields.Count - _open, pc, flagsLive, keeper, held));
        _open = _fields.Count;
    }

    /// <summary>The switches, here: each one's jumps pointed at it.</summary>
    public void Emit(CodeBuffer code, Action<CodeBuffer, ulong, int> exitTo)
    {
        foreach (Switch s in _switches)
        {
            for (int i = s.FirstField; i < s.FirstField + s.Fields; i++) code.PatchRel32(_fields[i], code.CurrentAddress);
            if (s.FlagsLive)
            {
                // rcx is borrowed (its guest value in the keeper): the bit added by a lea, flag-free.
                code.Encode(Instruction.Create(Code.Mov_r8_rm8, Register.CL, TopByte));
                code.Encode(Instruction.Create(Code.Lea_r32_m, Register.ECX, new MemoryOperand(Register.RCX, ForcedInTopByte, 1)));
                code.Encode(Instruction.Create(Code.Mov_rm8_r8, TopByte, Register.CL));
                RestoreRcx(code, s.Keeper);
            }
            else code.OrSlot8(MemcheckSlots.Dirty + 7, ForcedInTopByte);
            if (s.Held != Register.None) code.LoadSlot(s.Held, ContextOffsets.HeldScratch);
            exitTo(code, s.Pc, DefinednessMode.Propagating);
        }
        Reset();
    }

    /// <summary>rcx's guest value back from <paramref name="keeper"/> (nothing when rcx itself is: it is dead), or gs:[PrecheckSaveRcx].</summary>
    public static void RestoreRcx(CodeBuffer code, Register keeper)
    {
        if (keeper == Register.None) code.LoadSlot(Register.RCX, MemcheckSlots.PrecheckSaveRcx);
        else if (keeper != Register.RCX) code.Encode(Instruction.Create(Code.Mov_r64_rm64, Register.RCX, keeper));
    }
}
