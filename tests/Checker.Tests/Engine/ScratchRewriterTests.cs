using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.Engine.Translation;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>fs-relative and far RIP-relative rewrites, decoded back and checked operand by operand.</summary>
public class ScratchRewriterTests
{
    /// <summary>The displacement generated code uses for a context slot: fs-relative, in the threads' TLS (ContextTls).</summary>
    private static ulong ContextSlotDisplacement(int offset) => (ulong)(long)(offset + ContextTls.Offset);

    private const ulong At = 0x7000_1000;

    private static Instruction Decode(byte[] bytes, ulong ip = 0x40_1000)
    {
        var d = Decoder.Create(64, bytes, ip);
        d.Decode(out Instruction ins);
        return ins;
    }

    private static List<Instruction> DecodeAll(CodeBuffer code)
    {
        var d = Decoder.Create(64, code.Bytes.ToArray(), code.BaseAddress);
        var list = new List<Instruction>();
        while (d.IP < code.BaseAddress + (ulong)code.Length) list.Add(d.Decode());
        return list;
    }

    [Fact]
    public void FsAbsoluteOperandIsRebasedOnGuestFsBase()
    {
        // mov rax, fs:[0x28]
        Instruction ins = Decode([0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00]);
        var code = new CodeBuffer(At);
        ScratchRewriter.EmitFsRelative(code, ins);
        List<Instruction> output = DecodeAll(code);

        Assert.Equal(4, output.Count);
        Register scratch = output[0].Op1Register;
        Assert.NotEqual(Register.RAX, scratch);
        Assert.Equal(Register.FS, output[0].SegmentPrefix);
        Assert.Equal(ContextSlotDisplacement(ContextOffsets.ScratchSpill), output[0].MemoryDisplacement64);
        Assert.Equal(ContextSlotDisplacement(ContextOffsets.GuestFsBase), output[1].MemoryDisplacement64);
        Assert.Equal(Code.Mov_r64_rm64, output[2].Code);
        Assert.Equal(Register.RAX, output[2].Op0Register);
        Assert.Equal(scratch, output[2].MemoryBase);
        Assert.Equal(0x28UL, output[2].MemoryDisplacement64);
        Assert.Equal(Register.None, output[2].SegmentPrefix);
        Assert.Equal(scratch, output[3].Op0Register);
    }

    [Fact]
    public void FsOperandWithBaseAndIndexAddsBaseWithLea()
    {
        // mov edx, fs:[rax+rcx*4+0x10]
        Instruction ins = Decode([0x64, 0x8b, 0x54, 0x88, 0x10]);
        var code = new CodeBuffer(At);
        ScratchRewriter.EmitFsRelative(code, ins);
        List<Instruction> output = DecodeAll(code);

        Assert.Equal(5, output.Count);
        Register scratch = output[1].Op0Register;
        Assert.Equal(Code.Lea_r64_m, output[2].Code);
        Assert.Equal(Register.RAX, output[2].MemoryBase);
        Assert.Equal(scratch, output[2].MemoryIndex);
        Assert.Equal(scratch, output[3].MemoryBase);
        Assert.Equal(Register.RCX, output[3].MemoryIndex);
        Assert.Equal(4, output[3].MemoryIndexScale);
        Assert.Equal(0x10UL, output[3].MemoryDisplacement64);
    }

    [Fact]
    public void FarRipRelativeLoadUsesAbsoluteAddress()
    {
        // mov rax, [rip+0x100] decoded at a high address (like the vDSO)
        const ulong high = 0x7fff_f7fc_1000;
        Instruction ins = Decode([0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00], high);
        var code = new CodeBuffer(At);
        Assert.False(code.TryEncode(ins, out _));
        ScratchRewriter.EmitFarRipRelative(code, ins);
        List<Instruction> output = DecodeAll(code);

        Assert.Equal(Code.Mov_r64_imm64, output[1].Code);
        Assert.Equal(high + 7 + 0x100, output[1].Immediate64);
        Assert.Equal(output[1].Op0Register, output[2].MemoryBase);
        Assert.Equal(Register.RAX, output[2].Op0Register);
    }

    [Fact]
    public void PatchFieldsLieWithinAnAlignedQuadword()
    {
        for (int pad = 0; pad < 8; pad++)
        {
            var code = new CodeBuffer(At + (ulong)pad);
            int field = code.JmpRel32(At + 0x100);
            Assert.True(((code.BaseAddress + (ulong)field) & 7) <= 4, $"jmp's field at +{field} from {pad}");
            // No NOPs where the field fits already (they sat between cmp and jcc, which then did not fuse).
            if (((code.BaseAddress + 1) & 7) <= 4) Assert.Equal(1, field);
            int jcc = code.JccRel32(4, At + 0x200);
            Assert.True(((code.BaseAddress + (ulong)jcc) & 7) <= 4, $"jcc's field at +{jcc} from {pad}");
            Instruction decoded = Decoder.Create(64, code.Bytes.ToArray()[(jcc - 2)..], code.BaseAddress + (ulong)jcc - 2).Decode();
            Assert.Equal(Code.Je_rel32_64, decoded.Code);
            Assert.Equal(At + 0x200, decoded.NearBranchTarget);
        }
    }
}
