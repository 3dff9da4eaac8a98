using Checker.Engine.State;

namespace Checker.MemcheckTool.State;

/// <summary>
/// memcheck's per-thread slots in the context block's tool area (gs:[offset] in generated code).
/// The engine never touches them; offsets are constants for the code generators.
/// </summary>
public static unsafe class MemcheckSlots
{
    static MemcheckSlots()
    {
        if (End > ContextOffsets.ToolArea + ContextOffsets.ToolAreaSize) throw new InvalidOperationException("memcheck's slots overflow the tool area");
    }

    /// <summary>A slot of <paramref name="context"/> from C#.</summary>
    public static ref T At<T>(ContextBlock* context, int offset) where T : unmanaged => ref *(T*)((byte*)context + offset);

    private const int Base = ContextOffsets.ToolArea;

    /// <summary>pext by this mask turns an address into its shadow index without touching flags (bits 2..46: a &gt;&gt; 2).</summary>
    public const int ShadowIndexMask = Base + 0x000;
    /// <summary>The guest rcx while an inlined check borrows rcx.</summary>
    public const int CheckSaveRcx = Base + 0x008;
    /// <summary>Slow path arguments: the access address, its site (an index into the site table), its size, its element mask.</summary>
    public const int CheckAddress = Base + 0x010;
    public const int CheckSite = Base + 0x018;
    /// <summary>log2 of the element size a mask bit covers (63 when the access is not masked).</summary>
    public const int CheckElementShift = Base + 0x01c;
    public const int CheckMask = Base + 0x020;
    public const int CheckSize = Base + 0x028;
    /// <summary>Registers and flags the slow-path routine borrows.</summary>
    public const int CheckSaveRax = Base + 0x030;
    public const int CheckSaveRdx = Base + 0x038;
    public const int CheckSaveR8 = Base + 0x040;
    public const int CheckSaveR9 = Base + 0x048;
    public const int CheckSaveFlags = Base + 0x050;
    /// <summary>Stack tracking: the guest stack the shadow describes, [StackLimit, StackTop); rsp outside it is another stack.</summary>
    public const int StackLimit = Base + 0x058;
    public const int StackTop = Base + 0x060;
    /// <summary>rsp before an instruction that sets it explicitly (sub/add/and/lea/mov/leave...).</summary>
    public const int StackOldRsp = Base + 0x068;
    /// <summary>rcx while a shared slow-path routine borrows it (CheckSaveRcx may hold a spilled scratch).</summary>
    public const int RoutineSaveRcx = Base + 0x070;
    /// <summary>rax while an inline stack adjustment borrows it (no dead register). Base + 0x080 held the flags
    /// before the adjustment regenerated them by running again (<see cref="Instrumentation.StackTracking.TryEmitInline"/>).</summary>
    public const int StackSaveRax = Base + 0x078;
    /// <summary>String instructions: the element count is StringCountBefore - StringCountAfter (rcx before and after, or
    /// rcx and 0 when checked before), elements of CheckStringElement bytes; rsi/rdi before a repe/repne cmps/scas.</summary>
    public const int StringCountBefore = Base + 0x088;
    public const int StringCountAfter = Base + 0x090;
    public const int CheckStringElement = Base + 0x098;
    public const int StringSiBefore = Base + 0x0a0;
    public const int StringDiBefore = Base + 0x0a8;
    /// <summary>What the string routine borrows.</summary>
    public const int StringSaveRax = Base + 0x0b0;
    public const int StringSaveRdx = Base + 0x0b8;
    public const int StringSaveFlags = Base + 0x0c0;
    /// <summary>A gather's or scatter's operands for <see cref="Instrumentation.VsibCheck"/>: base register value, active-lane bits,
    /// displacement, shape (scale | index bytes &lt;&lt; 8 | element bytes &lt;&lt; 16 | lanes &lt;&lt; 24) and the index vector.</summary>
    public const int VsibBase = Base + 0x0c8;
    public const int VsibMaskBits = Base + 0x0d0;
    public const int VsibDisplacement = Base + 0x0d8;
    public const int VsibShape = Base + 0x0dc;
    /// <summary>The gather routine's own return address and borrowed registers (it calls the access check routine per lane).</summary>
    public const int VsibReturn = Base + 0x0e0;
    public const int VsibSaveRax = Base + 0x0e8;
    public const int VsibSaveRcx = Base + 0x0f0;
    public const int VsibSaveRdx = Base + 0x0f8;
    public const int VsibSaveFlags = Base + 0x100;
    /// <summary>Set by the access check routine when a gather's lane (mode 0, <see cref="CheckKinds.Deferred"/>) read an undefined
    /// byte: the gather routine leaves once, after its lane loop, for the propagating mode.</summary>
    public const int VsibUndefined = Base + 0x108;
    /// <summary>The pc of the gather whose lanes the propagating mode's code is checking (written by its inline part).</summary>
    public const int VsibPc = Base + 0x110;
    /// <summary>A gather mode 0 already checked lane by lane before switching to the propagating mode at it: its
    /// re-run there (the same execution) skips the walk, so no lane is reported twice (0: none).</summary>
    public const int VsibReplayPc = Base + 0x118;
    /// <summary>The register an access stub's exact lane test borrows (<see cref="Instrumentation.ExactLaneCheck"/>), and the flags it keeps when they are live.</summary>
    public const int StubSaveRegister = Base + 0x120;
    public const int StubSaveFlags = Base + 0x128;
    /// <summary>The stack adjustment site a stack routine was reached from (only with <see cref="Instrumentation.SlowPathProfile"/>).</summary>
    public const int ProfileSite = Base + 0x130;
    public const int VsibIndex = Base + 0x140;   // 64 bytes, 64-byte aligned
    /// <summary>
    /// What the checked access does for definedness (<see cref="CheckKinds"/>): a read of an undefined
    /// byte sends the thread to the propagating mode; a write-only access defines the bytes it writes.
    /// </summary>
    public const int CheckKind = Base + 0x180;
    /// <summary>Set by the access check routine when a read found an undefined byte (and no unaddressable one).</summary>
    public const int CheckUndefined = Base + 0x184;
    /// <summary>Why a memcheck routine left the cache (<see cref="ToolExitReasons"/>).</summary>
    public const int ToolExitReason = Base + 0x188;
    /// <summary>The propagation site of the instruction about to run (an index into the propagation table).</summary>
    public const int PropagateSite = Base + 0x18c;
    /// <summary>One bit per register whose shadow is not all defined (<see cref="Definedness.ShadowRegisters"/>): zero means the thread runs mode-0 code.</summary>
    public const int Dirty = Base + 0x198;
    /// <summary>The status flags' shadow: a set bit (Iced's RflagsBits numbering) is an undefined flag.</summary>
    public const int FlagsShadow = Base + 0x1a0;
    /// <summary>rcx while the propagating mode's pre-check borrows it.</summary>
    public const int PrecheckSaveRcx = Base + 0x1a8;
    /// <summary>
    /// The propagating mode's inline move (<see cref="Definedness.ShadowMoveRoutine"/>): the access's
    /// address and size, the register's shadow slot (a gs offset), how far a load zeroes that
    /// shadow, the register's dirty bit and full shadow size, load (0) or store (1), the dirty bits
    /// of the address registers (any set: the C# exit instead), and what the routine borrows.
    /// </summary>
    public const int MoveAddress = Base + 0x1b0;
    public const int MoveSize = Base + 0x1b8;
    public const int MoveSlot = Base + 0x1bc;
    public const int MoveZeroTo = Base + 0x1c0;
    public const int MoveBit = Base + 0x1c4;
    public const int MoveFullSize = Base + 0x1c8;
    public const int MoveStore = Base + 0x1cc;
    public const int MoveAddressBits = Base + 0x1d0;
    public const int MoveSaveRax = Base + 0x1d8;
    public const int MoveSaveRcx = Base + 0x1e0;
    public const int MoveSaveRdx = Base + 0x1e8;
    public const int MoveSaveR8 = Base + 0x1f0;
    public const int MoveSaveR9 = Base + 0x1f8;
    /// <summary>Shadows of the general registers (8 bytes each, hardware order; a set bit is an undefined bit).</summary>
    public const int GprShadow = Base + 0x200;
    /// <summary>Shadows of k0-k7 (8 bytes each).</summary>
    public const int MaskShadow = Base + 0x280;
    /// <summary>Shadows of zmm0-zmm31 (64 bytes each; xmm and ymm are their low parts).</summary>
    public const int VectorShadow = Base + 0x300;
    public const int MoveSaveFlags = VectorShadow + 32 * 64;
    public const int MoveSaveR10 = MoveSaveFlags + 8;
    public const int MoveSaveR11 = MoveSaveR10 + 8;
    public const int MoveTemp = MoveSaveR11 + 8;
    /// <summary>Shadows of the x87 registers by physical number (R0-R7, a byte each: 0 defined, 0xff undefined) and of the
    /// status word's condition codes (C0-C3 at their status-word bits) (<see cref="Definedness.X87Shadows"/>).</summary>
    public const int X87Shadow = MoveTemp + 8;
    public const int X87ConditionShadow = X87Shadow + 8;
    /// <summary>
    /// The propagating mode's register rules (<see cref="Definedness.ShadowRegisterRoutine"/>): the
    /// destination's guest value before the instruction, the immediate and masks (8 bytes each), then
    /// the operation, slots, dirty bits and sizes (4 bytes each), set by the site before its jump-and-link.
    /// </summary>
    public const int AluValue = X87ConditionShadow + 8;
    public const int AluImmediate = AluValue + 8;
    public const int AluSizeMask = AluImmediate + 8;
    public const int AluReplaceMask = AluSizeMask + 8;
    public const int AluFlagsKept = AluReplaceMask + 8;
    public const int AluFlagsWritten = AluFlagsKept + 8;
    public const int AluOperation = AluFlagsWritten + 8;
    public const int AluDestination = AluOperation + 4;
    public const int AluDestinationBit = AluDestination + 4;
    public const int AluWrites = AluDestinationBit + 4;
    public const int AluSource = AluWrites + 4;
    public const int AluSourceBit = AluSource + 4;
    public const int AluCopy = AluSourceBit + 4;
    public const int AluZeroTo = AluCopy + 4;
    public const int AluDestinationSize = AluZeroTo + 4;
    /// <summary>The thread's callstack walk memo as the native heap fast path reads it (a <c>WalkMemo.MemoView*</c>; 0: none yet).</summary>
    public const int HeapWalkMemo = (AluDestinationSize + 4 + 7) & ~7;
    /// <summary>
    /// Nonzero once the program has had a second thread (set in every thread's block from then on):
    /// until then the access check routine defines the lanes a store writes with a plain `and`,
    /// after it with a locked one (another thread's store may share the shadow word).
    /// </summary>
    public const int ProgramThreaded = HeapWalkMemo + 8;
    /// <summary>The lazy stub that left for C# to be made (<see cref="Instrumentation.LazyStubs"/>): its address; a lazy hit's lea (<see cref="Definedness.LazyHits"/>).</summary>
    public const int LazyStubAt = ProgramThreaded + 8;
    /// <summary>The call shadow routines' save of xmm15, through which they store the red zone's lanes (<see cref="Instrumentation.PushAndCallShadow"/>).</summary>
    public const int CallSaveXmm = (LazyStubAt + 8 + 15) & ~15;
    /// <summary>The end of the slots used so far.</summary>
    public const int End = CallSaveXmm + 16;
}
