using Checker.Engine.Emission;
using Checker.Engine.Translation;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.Tests.Engine;

/// <summary>
/// Where the status flags are dead: the access checks before an instruction use cmp/jne and skip
/// saving the flags only there, so a wrong "dead" corrupts the program and a wrong "live" costs time.
/// </summary>
public class LivenessTests
{
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

    private static bool FlagsDeadBeforeStore(Action<Assembler> transfer)
    {
        // cmp sets the flags; the store (instruction 1) is what a check would be emitted before.
        List<Instruction> block = Assemble(a =>
        {
            a.cmp(rax, rdx);
            a.mov(__dword_ptr[rdi], eax);
            transfer(a);
        });
        var liveness = new Liveness();
        liveness.Analyze(block);
        return liveness.FlagsDeadBefore(1);
    }

    [Fact]
    public void FlagsAreDeadBeforeCallsAndReturns()
    {
        // No calling convention passes flags, and the translation's own compare (return prediction)
        // and lookup (indirect call) overwrite them anyway.
        Assert.True(FlagsDeadBeforeStore(a => a.ret()));
        Assert.True(FlagsDeadBeforeStore(a => a.ret(16)));
        Assert.True(FlagsDeadBeforeStore(a => a.call(0x40_2000)));
        Assert.True(FlagsDeadBeforeStore(a => a.call(rax)));
        Assert.True(FlagsDeadBeforeStore(a => a.call(__qword_ptr[rax + 8])));
    }

    [Fact]
    public void FlagsStayLiveBeforeJumpsAndSideExits()
    {
        // A jump's target (a jcc's, a switch's) may read the flags the block set.
        Assert.False(FlagsDeadBeforeStore(a => a.jmp(0x40_2000)));
        Assert.False(FlagsDeadBeforeStore(a => a.jmp(rax)));
        Assert.False(FlagsDeadBeforeStore(a => a.je(0x40_2000)));
        // The flags the jcc reads are live before it whatever follows.
        List<Instruction> block = Assemble(a =>
        {
            a.cmp(rax, rdx);
            a.mov(__dword_ptr[rdi], eax);
            a.jne(0x40_2000);
            a.ret();
        });
        var liveness = new Liveness();
        liveness.Analyze(block);
        Assert.False(liveness.FlagsDeadBefore(1));
        Assert.True(liveness.FlagsDeadBefore(3));
    }

    [Fact]
    public void FlagsAreLiveAtEntryUnlessAllAreWrittenBeforeARead()
    {
        static bool LiveAtEntry(Action<Assembler> body) => Liveness.FlagsLiveAtEntry(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Assemble(body)));

        // An indirect jmp's target: its flags are given back only when this is true.
        Assert.False(LiveAtEntry(a => { a.mov(rax, __qword_ptr[rdi]); a.test(rax, rax); a.sete(al); a.jne(0x40_2000); }));
        Assert.True(LiveAtEntry(a => { a.setb(al); a.cmp(rax, rdx); }));                  // reads CF first
        Assert.True(LiveAtEntry(a => { a.inc(rcx); a.setb(al); }));                       // inc keeps CF
        Assert.True(LiveAtEntry(a => { a.shl(rax, cl); a.sete(al); }));                   // a count of 0 writes nothing
        Assert.False(LiveAtEntry(a => { a.shl(rax, 3); a.sete(al); }));
        Assert.True(LiveAtEntry(a => { a.mov(rax, rdx); a.jmp(0x40_2000); }));             // passes them on
        Assert.False(LiveAtEntry(a => { a.mov(rax, rdx); a.call(0x40_2000); }));           // none across a call
        Assert.False(LiveAtEntry(a => { a.pop(rbx); a.ret(); }));
        Assert.True(LiveAtEntry(a => { a.mov(rax, rdx); }));                               // falls off the block
    }

    private static int LiveAtEntry(Action<Assembler> body) =>
        new Liveness().LiveAtEntry(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Assemble(body)));

    private static int Bit(Register register) => Liveness.RegisterBit(register);

    [Fact]
    public void RegistersWrittenWholeBeforeAnyReadAreDeadAtEntry()
    {
        // What the code after an exit reads first decides what the checks before the exit may borrow.
        int facts = LiveAtEntry(a => { a.mov(ecx, 5); a.mov(rax, __qword_ptr[rdx]); a.add(rcx, rax); a.ret(); });
        Assert.Equal(0, facts & (Bit(Register.RCX) | Bit(Register.RAX)));   // written whole first (a 32-bit write zero-extends)
        Assert.NotEqual(0, facts & Bit(Register.RDX));                      // read as the load's base
        Assert.NotEqual(0, facts & Bit(Register.RBX));                      // not written before the ret: live past it
        Assert.Equal(0, facts & Liveness.FlagsBit);                         // add writes every flag before the ret

        // A write of part of a register keeps the rest: still live.
        Assert.NotEqual(0, LiveAtEntry(a => { a.mov(cl, 1); a.mov(rcx, 2); }) & Bit(Register.RCX));
        Assert.NotEqual(0, LiveAtEntry(a => { a.mov(cx, 1); a.mov(rcx, 2); }) & Bit(Register.RCX));
        // A conditional write may leave the old value.
        Assert.NotEqual(0, LiveAtEntry(a => { a.test(rax, rax); a.cmove(rcx, rdx); a.mov(rcx, 1); }) & Bit(Register.RCX));
        // Read and written by one instruction: read first.
        Assert.NotEqual(0, LiveAtEntry(a => { a.mov(rcx, __qword_ptr[rcx]); }) & Bit(Register.RCX));
        // Flags read before they are written, or code that ends before writing them all.
        Assert.NotEqual(0, LiveAtEntry(a => { a.setb(al); a.cmp(rax, rdx); }) & Liveness.FlagsBit);
        Assert.NotEqual(0, LiveAtEntry(a => { a.mov(rax, 1); }) & Liveness.FlagsBit);
        // Nothing decoded: everything live.
        Assert.Equal(Liveness.AllLive, LiveAtEntry(_ => { }));
    }

    [Fact]
    public void ExitFactsFreeRegistersAndFlagsBeforeTheExit()
    {
        List<Instruction> block = Assemble(a =>
        {
            a.cmp(rax, rdx);
            a.mov(__dword_ptr[rdi], eax);   // instruction 1: where a check goes
            a.je(0x40_2000);                // instruction 2: a side exit
            a.mov(__dword_ptr[rsi], eax);   // instruction 3: falls through after it
        });
        var liveness = new Liveness();
        ReadOnlySpan<Instruction> span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(block);

        // Nothing known of the exits: everything live at them.
        liveness.Analyze(span, default);
        Assert.False(liveness.FlagsDeadAfter(3));
        Assert.Equal(Register.None, liveness.FreeRegisterAfter(3));

        // The fall-through's code writes rcx and the flags first; the jcc's target reads rcx.
        int fallThrough = Liveness.AllLive & ~Bit(Register.RCX) & ~Liveness.FlagsBit;
        int[] exits = [Liveness.AllLive, Liveness.AllLive, Liveness.AllLive, Liveness.AllLive, fallThrough];
        liveness.Analyze(span, exits);
        Assert.True(liveness.FlagsDeadAfter(3));
        Assert.Equal(Register.RCX, liveness.FreeRegisterAfter(3));
        Assert.Equal(Register.RCX, liveness.FreeRegisterBefore(3));
        Assert.Equal(Register.None, liveness.FreeRegisterBefore(1));    // the jcc's target may read it
        Assert.False(liveness.FlagsDeadBefore(1));                      // the jcc reads them

        // Both ways free: the jcc's target writes rcx before reading it too.
        exits[2] = fallThrough;
        liveness.Analyze(span, exits);
        Assert.Equal(Register.RCX, liveness.FreeRegisterBefore(1));

        // A direct jmp's target decides alone what is live before it.
        List<Instruction> jumping = Assemble(a => { a.cmp(rax, rdx); a.mov(__dword_ptr[rdi], eax); a.jmp(0x40_2000); });
        liveness.Analyze(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(jumping), [Liveness.AllLive, Liveness.AllLive, fallThrough, Liveness.AllLive]);
        Assert.True(liveness.FlagsDeadBefore(1));
        Assert.Equal(Register.RCX, liveness.FreeRegisterBefore(1));
    }
}
