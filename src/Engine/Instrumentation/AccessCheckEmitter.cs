using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;

namespace Checker.Engine.Instrumentation;

/// <summary>
/// Emits the inline check of an instruction's memory accesses and, out of line after the fragment
/// body, each access's slow-path stub. The inline part touches no flags and borrows only rcx:
/// <code>
///   mov  gs:[CheckSaveRcx], rcx
///   lea  rcx, [operand]                       ; the address
///   pext rcx, rcx, gs:[ShadowIndexMask]       ; its shadow index (a &gt;&gt; 2), flag-free
///   movzx ecx, word fs:[rcx]                  ; the shadow covering the access (fs = shadow base)
///   jrcxz resume                              ; all addressable and defined: the common case
///   jmp  stub                                 ; else the slow path decides
/// resume:
///   mov  rcx, gs:[CheckSaveRcx]
///   (the instruction)
/// </code>
/// The shadow loaded is the whole shadow byte/word/dword/qword that covers the access from its
/// 4-byte-aligned start, so it may include neighbours: a non-zero value only means "look closer".
/// The stub stores the exact address, size, mask and site and jumps (jump-and-link: the return
/// address is in gs:[CheckReturn]) to <see cref="AccessCheckRoutine"/>, which checks byte by byte
/// and leaves the cache only for a real error.
/// </summary>
public sealed class AccessCheckEmitter(AccessSiteTable sites, ulong checkRoutine)
{
    private readonly List<(AccessSite Site, int JumpField, ulong Resume)> _pending = [];

    /// <summary>Forgets stubs of a previous fragment (call when a translation starts).</summary>
    public void Reset() => _pending.Clear();

    /// <summary>The inline checks of <paramref name="accesses"/>, to be placed right before the instruction at <paramref name="pc"/>.</summary>
    public void EmitChecks(CodeBuffer code, ulong pc, IReadOnlyList<CheckedAccess> accesses)
    {
        if (accesses.Count == 0) return;
        code.Encode(ContextOperand.Store(ContextOffsets.CheckSaveRcx, Register.RCX));
        bool rcxIsGuest = true;
        foreach (CheckedAccess access in accesses)
        {
            AccessSite site = sites.Add(pc, access);
            if (access.Extent == AccessExtent.RepeatCount)
            {
                _pending.Add((site, JumpToStub(code), 0));
            }
            else
            {
                foreach ((long offset, int width) in Probes(access.Size))
                {
                    if (!rcxIsGuest && UsesRcx(access)) code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.CheckSaveRcx));
                    code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, access.Operand(offset)));
                    code.Encode(Instruction.Create(Code.VEX_Pext_r64_r64_rm64, Register.RCX, Register.RCX, ContextOperand.Slot(ContextOffsets.ShadowIndexMask)));
                    code.Encode(LoadShadow(width));
                    rcxIsGuest = false;
                    code.Raw([0xE3, 0x05]);   // jrcxz over the 5-byte jmp to the stub
                    _pending.Add((site, JumpToStub(code), 0));
                }
            }
            ulong resume = code.CurrentAddress;
            for (int i = _pending.Count - 1; i >= 0 && _pending[i].Site == site; i--)
                _pending[i] = _pending[i] with { Resume = resume };
        }
        code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.CheckSaveRcx));
    }

    /// <summary>After the fragment body: one stub per access site, and the body's jumps patched to them.</summary>
    public void EmitStubs(CodeBuffer code)
    {
        AccessSite? previous = null;
        ulong stub = 0;
        foreach ((AccessSite site, int field, ulong resume) in _pending)
        {
            if (site != previous)
            {
                stub = code.CurrentAddress;
                EmitStub(code, site, resume);
                previous = site;
            }
            code.PatchRel32(field, stub);
        }
        _pending.Clear();
    }

    private void EmitStub(CodeBuffer code, AccessSite site, ulong resume)
    {
        CheckedAccess access = site.Access;
        code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.CheckSaveRcx));
        if (access.Extent == AccessExtent.RepeatCount)
        {
            // size = rcx * element size (the guest rcx is in rcx now).
            code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, new MemoryOperand(Register.None, Register.RCX, access.Size, 0, 0)));
            code.Encode(ContextOperand.Store(ContextOffsets.CheckSize, Register.RCX));
            code.Encode(ContextOperand.Load(Register.RCX, ContextOffsets.CheckSaveRcx));
        }
        else
        {
            code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContextOffsets.CheckSize), access.Size));
        }
        code.Encode(Instruction.Create(Code.Lea_r64_m, Register.RCX, access.Operand()));
        code.Encode(ContextOperand.Store(ContextOffsets.CheckAddress, Register.RCX));
        if (access.OpMask != Register.None)
        {
            code.Encode(Instruction.Create(Code.VEX_Kmovq_r64_kr, Register.RCX, access.OpMask));
            code.Encode(ContextOperand.Store(ContextOffsets.CheckMask, Register.RCX));
            code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.CheckElementShift), System.Numerics.BitOperations.Log2((uint)access.ElementSize)));
        }
        else
        {
            code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContextOffsets.CheckMask), -1));
            code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.CheckElementShift), 63));
        }
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(ContextOffsets.CheckSite), site.Id));
        code.Encode(Instruction.Create(Code.Mov_rm64_imm32, ContextOperand.Slot(ContextOffsets.CheckReturn), checked((int)resume)));
        code.Raw([0xE9]);
        code.Int32(Rel32.Displacement(code.CurrentAddress + 4, checkRoutine));
    }

    /// <summary>
    /// Shadow loads that together cover any placement of a <paramref name="size"/>-byte access: a
    /// load of w shadow bytes at (a + offset) &gt;&gt; 2 covers 4w application bytes from (a + offset) &amp; ~3.
    /// </summary>
    internal static IEnumerable<(long Offset, int ShadowBytes)> Probes(int size)
    {
        if (size <= 1) { yield return (0, 1); yield break; }
        if (size <= 5) { yield return (0, 2); yield break; }
        if (size <= 13) { yield return (0, 4); yield break; }
        for (long offset = 0; ; offset += 28)
        {
            yield return (offset, 8);
            if (offset + 29 >= size) yield break;
        }
    }

    private static Instruction LoadShadow(int shadowBytes)
    {
        var shadow = new MemoryOperand(Register.RCX, Register.None, 1, 0, 0, false, Register.FS);
        return shadowBytes switch
        {
            1 => Instruction.Create(Code.Movzx_r32_rm8, Register.ECX, shadow),
            2 => Instruction.Create(Code.Movzx_r32_rm16, Register.ECX, shadow),
            4 => Instruction.Create(Code.Mov_r32_rm32, Register.ECX, shadow),
            _ => Instruction.Create(Code.Mov_r64_rm64, Register.RCX, shadow),
        };
    }

    // jmp rel32, unaligned (never relinked; the jrcxz before it counts on exactly 5 bytes).
    private static int JumpToStub(CodeBuffer code)
    {
        code.Byte(0xE9);
        int field = code.Length;
        code.Int32(0);
        return field;
    }

    private static bool UsesRcx(CheckedAccess access) =>
        access.Base.GetFullRegister() == Register.RCX || access.Index.GetFullRegister() == Register.RCX;
}
