using Checker.Engine.Translation;
using Checker.Engine.Emission;
using Checker.MemcheckTool.Instrumentation;
using Checker.Engine.State;
using Iced.Intel;
using Xunit;

namespace Checker.Tests.Engine;

/// <summary>One spill per straight-line run of checks, on a register the run never touches.</summary>
public class HeldScratchTests
{
    /// <summary>The displacement generated code uses for a context slot: fs-relative, in the threads' TLS (ContextTls).</summary>
    private static ulong ContextSlotDisplacement(int offset) => (ulong)(long)(offset + ContextTls.Offset);

    private static List<Instruction> Assemble(Action<Assembler> body)
    {
        var a = new Assembler(64);
        body(a);
        var writer = new ListCodeWriter();
        a.Assemble(writer, 0x40_1000);
        var decoder = Decoder.Create(64, writer.Bytes.ToArray(), 0x40_1000);
        var list = new List<Instruction>();
        while (decoder.IP < 0x40_1000 + (ulong)writer.Bytes.Count) list.Add(decoder.Decode());
        return list;
    }

    [Fact]
    public void HoldsAnUnusedRegisterUntilTheRunEnds()
    {
        // numeric's inner loop: rax, rbx, rcx, rbp, r13, rdi in use; then rdx is used; then a branch.
        List<Instruction> block = Assemble(a =>
        {
            a.movsd(AssemblerRegisters.xmm0, AssemblerRegisters.__qword_ptr[AssemblerRegisters.r13 + AssemblerRegisters.rax + 8]);
            a.addsd(AssemblerRegisters.xmm0, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rcx + AssemblerRegisters.rax + 8]);
            a.movsd(AssemblerRegisters.__qword_ptr[AssemblerRegisters.rbp + AssemblerRegisters.rax + 8], AssemblerRegisters.xmm0);
            a.add(AssemblerRegisters.rax, 8);
            a.cmp(AssemblerRegisters.rax, AssemblerRegisters.rdi);
            a.mov(AssemblerRegisters.rdx, AssemblerRegisters.rbx);
            a.jne(0x40_1000);
        });
        var liveness = new Liveness();
        liveness.Analyze(block);
        var held = new HeldScratch(liveness);
        var code = new CodeBuffer(0x7000_1000);
        var events = new List<string>();
        for (int i = 0; i < block.Count; i++)
        {
            int before = code.Length;
            held.BeforeInstruction(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block), i);
            if (code.Length != before) events.Add($"release before {i}");
            if (i < 3)
            {
                Register r = held.Acquire(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block), i);
                events.Add($"use {r} at {i}");
            }
        }
        // rdx is first in preference, but the run uses it (instruction 5): the next choice is rsi.
        Assert.Equal(["use RSI at 0", "use RSI at 1", "use RSI at 2", "release before 6"], events);
        var decoder = Decoder.Create(64, code.Bytes.ToArray(), code.BaseAddress);
        Instruction spill = decoder.Decode(), reload = decoder.Decode();
        Assert.Equal((Code.Mov_rm64_r64, Register.RSI, ContextSlotDisplacement(ContextOffsets.HeldScratch)), (spill.Code, spill.Op1Register, spill.MemoryDisplacement64));
        Assert.Equal((Code.Mov_r64_rm64, Register.RSI, ContextSlotDisplacement(ContextOffsets.HeldScratch)), (reload.Code, reload.Op0Register, reload.MemoryDisplacement64));
        Assert.Equal(Register.FS, spill.SegmentPrefix);
        Assert.Equal(Register.None, held.Held);
    }

    [Fact]
    public void AnInstructionThatUsesTheHeldRegisterEndsTheRun()
    {
        List<Instruction> block = Assemble(a =>
        {
            a.mov(AssemblerRegisters.rax, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rbx]);
            a.sub(AssemblerRegisters.rsp, 32);   // sets rsp: ends the run
            a.mov(AssemblerRegisters.rdx, AssemblerRegisters.__qword_ptr[AssemblerRegisters.rbx]);
        });
        var liveness = new Liveness();
        liveness.Analyze(block);
        var held = new HeldScratch(liveness);
        var code = new CodeBuffer(0x7000_1000);
        held.BeforeInstruction(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block), 0);
        Assert.Equal(Register.RDX, held.Acquire(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block), 0));
        held.BeforeInstruction(code, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block), 1);
        Assert.Equal(Register.None, held.Held);
    }
}
