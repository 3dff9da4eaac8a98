using System.Runtime.InteropServices;

namespace Checker.Engine.State;

/// <summary>
/// The per-thread context block that generated code addresses through gs. Its layout is declared once
/// here: the struct fields carry the offsets and <see cref="ContextOffsets"/> exposes them as
/// constants for the code generators. While a thread is outside the code cache the guest's registers
/// live here; while it is inside, only the slots below are used (spills, jump targets, exit record).
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = ContextOffsets.Size)]
public unsafe struct ContextBlock
{
    /// <summary>General registers in hardware encoding order: rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15.</summary>
    [FieldOffset(ContextOffsets.Gpr)] public fixed ulong Gpr[16];
    [FieldOffset(ContextOffsets.Rflags)] public ulong Rflags;
    /// <summary>Application pc to continue at (set by the dispatcher or by an indirect-branch miss).</summary>
    [FieldOffset(ContextOffsets.NextPc)] public ulong NextPc;
    /// <summary>The guest's fs base: never loaded into the real fs, which belongs to the host.</summary>
    [FieldOffset(ContextOffsets.GuestFsBase)] public ulong GuestFsBase;
    [FieldOffset(ContextOffsets.GuestGsBase)] public ulong GuestGsBase;
    [FieldOffset(ContextOffsets.HostRsp)] public ulong HostRsp;
    /// <summary>Which exit stub left the cache (an index into the exit table, or a reserved reason).</summary>
    [FieldOffset(ContextOffsets.ExitId)] public int ExitId;
    [FieldOffset(ContextOffsets.EnterTarget)] public ulong EnterTarget;
    [FieldOffset(ContextOffsets.InterceptCall)] public int InterceptCall;
    [FieldOffset(ContextOffsets.VectorsSaved)] public uint VectorsSaved;
    [FieldOffset(ContextOffsets.IblMissTable)] public int IblMissTable;
    [FieldOffset(ContextOffsets.IblLookups)] public long IblLookups;
    [FieldOffset(ContextOffsets.IblReturnLookups)] public long IblReturnLookups;
    [FieldOffset(ContextOffsets.IblCallLookups)] public long IblCallLookups;
    [FieldOffset(ContextOffsets.PredictedContinuation)] public ulong PredictedContinuation;
    [FieldOffset(ContextOffsets.PredictedContinuationMode1)] public ulong PredictedContinuationMode1;
    [FieldOffset(ContextOffsets.PredictedReturns)] public long PredictedReturns;
    [FieldOffset(ContextOffsets.Self)] public ulong Self;
    [FieldOffset(ContextOffsets.HostMxcsr)] public uint HostMxcsr;
    [FieldOffset(ContextOffsets.HostFpuCw)] public ushort HostFpuCw;
    [FieldOffset(ContextOffsets.FaultSignal)] public int FaultSignal;
    [FieldOffset(ContextOffsets.FaultAddress)] public ulong FaultAddress;
    [FieldOffset(ContextOffsets.FaultCachePc)] public ulong FaultCachePc;
    [FieldOffset(ContextOffsets.FaultCode)] public int FaultCode;
    [FieldOffset(ContextOffsets.FaultError)] public ulong FaultError;
    [FieldOffset(ContextOffsets.StopSignal)] public int StopSignal;
    [FieldOffset(ContextOffsets.StopState)] public int StopState;
    [FieldOffset(ContextOffsets.ThreadId)] public long ThreadId;
    [FieldOffset(ContextOffsets.UnwindTop)] public ulong UnwindTop;
    [FieldOffset(ContextOffsets.InterceptFast)] public ulong InterceptFast;
    [FieldOffset(ContextOffsets.InterceptFastData)] public ulong InterceptFastData;
    [FieldOffset(ContextOffsets.LinkReturn)] public ulong LinkReturn;
    [FieldOffset(ContextOffsets.XsaveArea)] public fixed byte XsaveArea[ContextOffsets.XsaveAreaSize];
    /// <summary>The tool's own per-thread slots (<see cref="ContextOffsets.ToolArea"/>).</summary>
    [FieldOffset(ContextOffsets.ToolArea)] public fixed byte ToolArea[ContextOffsets.ToolAreaSize];

    public ulong Rax { get => Gpr[0]; set => Gpr[0] = value; }
    public ulong Rcx { get => Gpr[1]; set => Gpr[1] = value; }
    public ulong Rdx { get => Gpr[2]; set => Gpr[2] = value; }
    public ulong Rsp { get => Gpr[4]; set => Gpr[4] = value; }
    public ulong Rsi { get => Gpr[6]; set => Gpr[6] = value; }
    public ulong Rdi { get => Gpr[7]; set => Gpr[7] = value; }
    public ulong R8 { get => Gpr[8]; set => Gpr[8] = value; }
    public ulong R9 { get => Gpr[9]; set => Gpr[9] = value; }
    public ulong R10 { get => Gpr[10]; set => Gpr[10] = value; }
    public ulong R11 { get => Gpr[11]; set => Gpr[11] = value; }
}

/// <summary>Byte offsets into <see cref="ContextBlock"/> for generated code (gs:[offset]).</summary>
public static class ContextOffsets
{
    public const int Gpr = 0x000;
    public const int Rflags = 0x080;
    public const int NextPc = 0x088;
    public const int GuestFsBase = 0x090;
    public const int GuestGsBase = 0x098;
    public const int HostRsp = 0x0a0;
    public const int ExitId = 0x0a8;
    public const int EnterTarget = 0x0b0;
    /// <summary>The replaced entry a fragment calls from the cache: its number in <see cref="Interception.InterceptedCalls"/>.</summary>
    public const int InterceptCall = 0x0b8;
    /// <summary>
    /// How the exit routine kept the guest's vector state (<see cref="Emission.RuntimeRoutines"/>):
    /// 0, by XSAVEOPT (the entry runs XRSTOR); else the XINUSE bits it read, with bit 31 set, when it
    /// stored only xmm/ymm0-15 and MXCSR into the XSAVE area's own places (the entry loads them back).
    /// Host code that writes the XSAVE area sets it to 0.
    /// </summary>
    public const int VectorsSaved = 0x0c0;
    /// <summary>Indirect-branch lookup: the registers it borrows (a hit's fragment gives rax and rcx back at its indirect entry).</summary>
    public const int IblSaveRax = 0x0c8;
    public const int IblSaveRcx = 0x0d0;
    public const int IblSaveRdx = 0x0d8;
    /// <summary>
    /// The guest's status flags at an indirect jmp (lahf in the high byte, seto in the low), which
    /// its lookup then overwrites: a fragment whose code reads them before writing them gives them
    /// back at its indirect entry (<see cref="Emission.IndirectBranchEmitter"/>).
    /// </summary>
    public const int IblSaveFlags = 0x0e0;
    /// <summary>Spill slot for the scratch register of a rewritten fs-relative access.</summary>
    public const int ScratchSpill = 0x0e8;
    /// <summary>The victim table of the lookup that missed (the dispatcher fills the table of that mode; 0: the thread's mode).</summary>
    public const int IblMissTable = 0x0f0;
    /// <summary>Count of indirect-branch lookups (incremented flag-free by the inlined lookups under --stats).</summary>
    public const int IblLookups = 0x0f8;
    public const int Self = 0x100;
    public const int HostMxcsr = 0x108;
    public const int HostFpuCw = 0x10c;
    /// <summary>A fault in translated code: signal, faulting address (si_addr) and cache pc.</summary>
    public const int FaultSignal = 0x110;
    public const int FaultAddress = 0x118;
    public const int FaultCachePc = 0x120;
    /// <summary>The guest's MXCSR and x87 control word across a replaced call (no XSAVE there).</summary>
    public const int GuestMxcsr = 0x128;
    public const int GuestFpuCw = 0x12c;
    /// <summary>
    /// Jump-and-link (<see cref="Emission.JumpAndLink"/>): where a shared routine returns to, and
    /// where the dispatcher resumes after a routine left the cache with <see cref="Emission.ExitIds.ToolExit"/>.
    /// </summary>
    public const int LinkReturn = 0x148;
    /// <summary>Of <see cref="IblLookups"/>, those at a ret and at an indirect call (--stats; the rest are jmps).</summary>
    public const int IblReturnLookups = 0x188;
    public const int IblCallLookups = 0x190;
    /// <summary>
    /// Return prediction, per mode (0 and 1): the return address the thread's latest call pushed and
    /// where its translation continues (an exit of the calling fragment to that address). A ret whose
    /// target is that address jumps there instead of looking it up (<see cref="Translation.ReturnPrediction"/>).
    /// </summary>
    public const int PredictedReturn = 0x198;
    public const int PredictedContinuation = 0x1a0;
    /// <summary>The same pair for mode 1 (a tool's first variant: memcheck's propagating mode).</summary>
    public const int PredictedReturnMode1 = 0x1a8;
    public const int PredictedContinuationMode1 = 0x1b0;
    /// <summary>Returns that took the predicted continuation (--stats).</summary>
    public const int PredictedReturns = 0x1b8;
    /// <summary>The guest value of the register a run of access checks holds as its scratch (<see cref="Translation.HeldScratch"/>).</summary>
    public const int HeldScratch = 0x1c0;
    /// <summary>A fault in translated code, further: si_code (SEGV_MAPERR 1, SEGV_ACCERR 2, ...) and the
    /// page-fault error code of uc_mcontext (bit 1: a write, bit 4: an instruction fetch).</summary>
    public const int FaultCode = 0x2a8;
    public const int FaultError = 0x2b0;
    /// <summary>
    /// Stopping the thread from another one (a terminating signal for the whole process): the signal,
    /// and who took the stop (0 nobody yet, <see cref="StopStates"/>). The kick handler claims it when
    /// the kick lands in the code cache and parks the thread there; the dispatcher claims it at its
    /// next iteration otherwise.
    /// </summary>
    public const int StopSignal = 0x2b8;
    public const int StopState = 0x2bc;
    /// <summary>The host thread's kernel tid (where the kick is sent).</summary>
    public const int ThreadId = 0x2c0;
    /// <summary>Where callstack walks of this thread's stack stop (the main stack's top, a thread's initial rsp).</summary>
    public const int UnwindTop = 0x2c8;
    /// <summary>Where MEMCHECK_ENTRY_PROFILE's counter increments keep rax (<see cref="Emission.EntryProfile"/>).</summary>
    public const int ProfileScratch = 0x2d0;
    /// <summary>
    /// A tool's native fast path for replaced calls (0: none), set per thread by the tool:
    /// <c>int fast(ContextBlock*, int carried, void* data)</c>, with InterceptFastData as data, called
    /// by the InterceptCall routine on the host stack but with the cache's fs base and the guest's
    /// vector and control state in force (general registers only, no TLS); 1 when it did the call
    /// (its result in the block's rax), 0 to go on to the C# handler.
    /// </summary>
    public const int InterceptFast = 0x3f0;
    public const int InterceptFastData = 0x3f8;
    /// <summary>XSAVE area (64-byte aligned) holding the guest's x87/SSE/AVX/AVX-512 state while outside the cache.</summary>
    public const int XsaveArea = 0x400;
    public const int XsaveAreaSize = 0x3000;
    /// <summary>
    /// Slots that belong to the tool (<see cref="Tools.Tool"/>): the engine never reads or writes
    /// them; the tool lays them out (memcheck: its check arguments, stack bounds, register shadows).
    /// Zero when a thread starts, except what the tool copies from the parent thread.
    /// </summary>
    public const int ToolArea = XsaveArea + XsaveAreaSize;
    public const int ToolAreaSize = 0x1000;
    public const int Size = ToolArea + ToolAreaSize;

    public static int OfGpr(int hardwareIndex) => Gpr + 8 * hardwareIndex;
}

/// <summary>Values of <see cref="ContextOffsets.StopState"/>.</summary>
public static class StopStates
{
    public const int Running = 0;
    /// <summary>Parked in the kick handler, its guest registers copied to the block: the requester finishes the run.</summary>
    public const int Parked = 2;
    /// <summary>The dispatcher took the stop: the thread finishes the run itself.</summary>
    public const int Claimed = 3;
}
