using Checker.Engine.Emission;
using Checker.Engine.Translation;
using Iced.Intel;

namespace Checker.Engine.Tools;

/// <summary>
/// A tool's instrumentation pass over one block, called by the translator as it emits the fragment
/// (under the cache lock, so one instance is used by one translation at a time). The translator
/// copies or rewrites the application instructions; the pass adds code before and after them, may
/// take over the emission of one, and adds out-of-line code (slow-path stubs) after the block.
/// </summary>
public abstract class BlockInstrumenter
{
    /// <summary>A block is about to be emitted; <paramref name="block"/> stays valid until the next call.</summary>
    public abstract void BeginBlock(BlockServices block);

    /// <summary>
    /// Before application instruction <paramref name="index"/>, whatever it is but a syscall (the
    /// tool's syscall events see those) or undecodable bytes: branches, calls and rets too. Code
    /// placed here runs before the instruction's translation.
    /// </summary>
    public abstract void BeforeInstruction(CodeBuffer code, int index);

    /// <summary>
    /// Emits straight-line instruction <paramref name="index"/> itself (with <paramref name="emitPlain"/> for
    /// the application instruction as the engine would emit it) and returns true, or returns false
    /// to let the engine emit it and then call <see cref="AfterInstruction"/>.
    /// </summary>
    public virtual bool TryEmitInstruction(CodeBuffer code, int index, Action<CodeBuffer> emitPlain) => false;

    /// <summary>After straight-line instruction <paramref name="index"/> the engine emitted.</summary>
    public virtual void AfterInstruction(CodeBuffer code, int index) { }

    /// <summary>
    /// Out-of-line code that leaves through exits (<see cref="BlockServices.ExitTo"/>), after the
    /// block's last instruction and before the exits' stubs: rare paths kept off the straight line,
    /// so the usual path falls through (a taken branch per block entry costs the front end).
    /// </summary>
    public virtual void EmitSideExits(CodeBuffer code) { }

    /// <summary>Out-of-line code after the block's exit stubs (slow paths reached from inline checks).</summary>
    public virtual void EmitStubs(CodeBuffer code) { }

    /// <summary>
    /// For the indirect branches of fragments of <paramref name="mode"/> whose flags are dead: the
    /// mode whose fragments they go to instead when the dword at context slot <c>Slot</c> has none
    /// of <c>Bits</c> set (the thread's state is that mode's again); null: always their own mode's.
    /// </summary>
    public virtual (int Slot, uint Bits, int Mode)? LookupInstead(int mode) => null;
}

/// <summary>
/// What the translator offers a pass for the block being emitted: its instructions, register and
/// flags liveness, and a scratch register held across a run of straight-line instructions
/// (spilled once to gs:[HeldScratch]; fault translation puts it back).
/// </summary>
public sealed class BlockServices(IReadOnlyList<Instruction> instructions, Liveness liveness, HeldScratch held)
{
    public IReadOnlyList<Instruction> Instructions { get; } = instructions;

    /// <summary>
    /// The same instructions by reference (the translator's list): the interface indexer copied a
    /// 40-byte Instruction per call, and the tool's per-block passes asked it several times per instruction.
    /// </summary>
    public ReadOnlySpan<Instruction> Span => _list != null ? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_list) : (Instruction[])instructions;

    private readonly List<Instruction>? _list = instructions as List<Instruction>;
    public Liveness Liveness { get; } = liveness;
    public HeldScratch Held { get; } = held;
    /// <summary>The tool's mode the block is translated for (<see cref="Tool.ModeOf"/>).</summary>
    public int Mode { get; internal set; }

    /// <summary>
    /// Emits a jump to an exit for application pc <paramref name="pc"/> in mode <c>mode</c>: linked
    /// to that mode's fragment (the tool guarantees the thread's state is that mode's when it is
    /// taken), so mode changes inside loops do not pass the dispatcher.
    /// </summary>
    public Action<Emission.CodeBuffer, ulong, int> ExitTo { get; internal set; } = (_, _, _) => throw new InvalidOperationException("no block is being translated");
}
