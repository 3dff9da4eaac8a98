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
}
