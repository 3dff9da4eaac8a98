using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.Engine.Emission;

/// <summary>
/// The shared generated routines every fragment relies on, written once at the start of the code
/// cache:
/// <list type="bullet">
/// <item><c>Enter</c>: called from C#; saves the host's callee-saved state, loads the guest's
/// registers, flags and vector state from the context block and jumps to <c>EnterTarget</c>.</item>
/// <item><c>Exit</c>: reached by a jump from an exit stub; stores the guest state and returns to the
/// C# caller of <c>Enter</c>. The stub has already written <c>ExitId</c>.</item>
/// <item><c>IndirectBranchMiss</c>: where an inlined lookup (<see cref="IndirectBranchEmitter"/>) goes
/// when the table has no fragment for the target: exits with <see cref="ExitIds.IndirectMiss"/>.</item>
/// <item><c>RawSyscall</c>: a SysV-callable <c>syscall</c> instruction returning the raw kernel result.</item>
/// </list>
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class RuntimeRoutines
{
    private static readonly int[] HostCalleeSaved = [3, 5, 12, 13, 14, 15];

    private RuntimeRoutines() { }

    public ulong Enter { get; private init; }
    public ulong Exit { get; private init; }
    /// <summary>Exit and re-entry around a replaced function call: no vector state saved or restored (all caller-saved there).</summary>
    public ulong ExitForCall { get; private init; }
    public ulong EnterAfterCall { get; private init; }
    /// <summary>
    /// A replaced function's call from its entry fragment, reached by jump-and-link with the guest's
    /// registers, <c>ExitId</c> naming the entry's exit and <c>InterceptCall</c> its number: runs the handler in C# on the host stack
    /// (<see cref="Dispatch.InterceptCalls"/>) and returns through gs:[LinkReturn] with the result in
    /// rax and rsp at the return address, or leaves the cache like <see cref="ExitForCall"/>.
    /// </summary>
    public ulong InterceptCall { get; private init; }
    public ulong IndirectBranchMiss { get; private init; }
    /// <summary>The miss of an indirect jmp's lookup: the guest's flags back from IblSaveFlags first.</summary>
    public ulong IndirectBranchMissFlagsSaved { get; private init; }
    /// <summary>
    /// A predicted continuation that is no fragment (<see cref="Translation.ReturnPrediction"/>: a
    /// thread's initial one, or one whose fragment was flushed): leaves for the dispatcher with the
    /// mode-0 return slot's address. <see cref="ReturnMissMode1"/> for mode 1's slots.
    /// </summary>
    public ulong ReturnMiss { get; private init; }
    public ulong ReturnMissMode1 { get; private init; }
    public ulong RawSyscall { get; private init; }
    /// <summary>The same, for the guest's system calls the host passes through: the one place outside translated code where a kick parks a thread.</summary>
    public ulong GuestSyscall { get; private init; }
    /// <summary>SA_SIGINFO handler for SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP (see <see cref="Dispatch.FaultHandlers"/>).</summary>
    public ulong FaultHandler { get; private init; }
    public ulong SignalRestorer { get; private init; }
    /// <summary>Where a fault outside the cache goes when the previous disposition was SIG_DFL: reset it and return, so the fault repeats and kills.</summary>
    public ulong ResetToDefault { get; private init; }
    /// <summary>SA_SIGINFO handler of the kick signal (see <see cref="Dispatch.ThreadStopper"/>).</summary>
    public ulong KickHandler { get; private init; }
    /// <summary>Per signal number: the handler a fault outside the cache is passed to.</summary>
    public ulong PreviousHandlers { get; private init; }
    /// <summary>
    /// <c>int SafeCopy(void* destination, const void* source, size_t length)</c>, SysV: 1 when every
    /// byte was copied, 0 when the copy faulted (the fault handler resumes it at its failure return
    /// instead of treating the fault as the guest's or the host's). Host code's reads and writes of
    /// guest memory at a copy's cost instead of a process_vm_readv system call (see <see cref="Native.GuestMemory"/>).
    /// </summary>
    public ulong SafeCopy { get; private init; }

    private const int UcontextRip = 40 + 16 * 8;   // uc_mcontext.gregs[REG_RIP]
    private const int UcontextRax = 40 + 13 * 8;   // uc_mcontext.gregs[REG_RAX]
    private const int SiginfoAddr = 16;            // si_addr
    private const int SiginfoCode = 8;             // si_code
    private const int UcontextErr = 40 + 19 * 8;   // uc_mcontext.gregs[REG_ERR]
    private const int UcontextEflags = 40 + 17 * 8;   // uc_mcontext.gregs[REG_EFL]
    private const int BusAdrAln = 1;                 // si_code of an alignment-check SIGBUS
    private const int AlignmentCheckFlag = 0x40000;  // EFLAGS.AC
    private const int MxcsrFlags = 0x3f;             // MXCSR's exception flags (IE, DE, ZE, OE, UE, PE)
    private const int UcontextGregs = 40;
    /// <summary>For each GPR in hardware order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15): its gregs index (REG_RAX 13, ...).</summary>
    private static readonly int[] UcontextIndexOfGpr = [13, 14, 12, 11, 15, 10, 9, 8, 0, 1, 2, 3, 4, 5, 6, 7];
    private const int FutexWaitPrivate = 128, FutexWakePrivate = 129;

    /// <summary>
    /// Loads MXCSR and the x87 control word from the <paramref name="mxcsr"/>/<paramref name="fpuCw"/>
    /// slots unless they equal the ones in force (saved in <paramref name="currentMxcsr"/>/
    /// <paramref name="currentFpuCw"/>): on the replaced-call path host and guest nearly always
    /// agree, and the loads serialize. Clobbers eax and the flags.
    /// </summary>
    private static void LoadControlWordsIfDifferent(Assembler a, int mxcsr, int fpuCw, int currentMxcsr, int currentFpuCw)
    {
        Label sameMxcsr = a.CreateLabel(), sameFpuCw = a.CreateLabel();
        a.mov(eax, __dword_ptr.fs[mxcsr + ContextTls.Offset]);
        a.cmp(eax, __dword_ptr.fs[currentMxcsr + ContextTls.Offset]);
        a.je(sameMxcsr);
        a.ldmxcsr(__dword_ptr.fs[mxcsr + ContextTls.Offset]);
        a.Label(ref sameMxcsr);
        a.movzx(eax, __word_ptr.fs[fpuCw + ContextTls.Offset]);
        a.cmp(ax, __word_ptr.fs[currentFpuCw + ContextTls.Offset]);
        a.je(sameFpuCw);
        a.fldcw(__word_ptr.fs[fpuCw + ContextTls.Offset]);
        a.Label(ref sameFpuCw);
    }

    /// <summary>
    /// Whether the exit and entry may keep the guest's vector state by hand (<see cref="EmitFastVectorSave"/>):
    /// AVX, and XGETBV with ECX = 1 (XINUSE).
    /// </summary>
    private static readonly bool FastVectors = HasAvxAndXinuse() && Environment.GetEnvironmentVariable("MEMCHECK_XSAVE_ALWAYS") != "1";

    // From CPUID, not Avx.IsSupported: ahead-of-time code answers that for the instruction set it was
    // compiled for, not for this CPU. OSXSAVE and AVX (leaf 1), SSE and AVX state (leaf 0xD), XGETBV
    // with ECX = 1 (leaf 0xD, sub-leaf 1).
    private static bool HasAvxAndXinuse()
    {
        if (!System.Runtime.Intrinsics.X86.X86Base.IsSupported) return false;
        int ecx = System.Runtime.Intrinsics.X86.X86Base.CpuId(1, 0).Ecx;
        if ((ecx & (1 << 27)) == 0 || (ecx & (1 << 28)) == 0) return false;
        if ((System.Runtime.Intrinsics.X86.X86Base.CpuId(0xD, 0).Eax & 6) != 6) return false;
        return (System.Runtime.Intrinsics.X86.X86Base.CpuId(0xD, 1).Eax & 4) != 0;
    }

    /// <summary>
    /// XINUSE bits that need XSAVE: every component but SSE (1), AVX (2) and PKRU (9, which host
    /// code never changes). Bit 31 is the slot's own mark (<see cref="ContextOffsets.VectorsSaved"/>).
    /// </summary>
    private const int FullSaveComponents = 0x7fff_fdf9;

    /// <summary>
    /// What XSAVEOPT and XRSTOR cover: every component but PKRU, which host code never changes, so
    /// the register itself keeps the guest's value (WRPKRU, pkey_set) across the host's run. Saved
    /// and restored with the rest, a restore after hand-kept exits (which leave it alone) would put
    /// back an older value.
    /// </summary>
    private const int FullStateComponents = ~0x200;

    private static readonly AssemblerRegisterXMM[] Xmms = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
    private static readonly AssemblerRegisterYMM[] Ymms = [ymm0, ymm1, ymm2, ymm3, ymm4, ymm5, ymm6, ymm7, ymm8, ymm9, ymm10, ymm11, ymm12, ymm13, ymm14, ymm15];

    /// <summary>
    /// The exit's vector state when only SSE and AVX state are in use (XINUSE, the common case: no
    /// x87, no AVX-512): xmm0-15, the ymm upper halves and MXCSR stored into the XSAVE area's own
    /// places, its XSTATE_BV marked for both, so readers of the area (the tool's register values, a
    /// signal frame) see what XSAVEOPT would have written. XSAVEOPT and XRSTOR cost ~120-170 ns a
    /// pair on this VM; these ~30 stores and loads and two XGETBVs ~40: every exit to the dispatcher
    /// (a translation, a tool's C# exit) pays one pair. Then MXCSR and the x87 control word of the
    /// host, loaded only when they differ (FLDCW puts the x87 state in use). Ends at
    /// <paramref name="saved"/>; anything else in use goes to <paramref name="fullSave"/>. eax, ecx,
    /// edx are free (the guest's are stored).
    /// </summary>
    private static void EmitFastVectorSave(Assembler a, Label fullSave, Label saved)
    {
        int area = ContextOffsets.XsaveArea + ContextTls.Offset;
        a.mov(ecx, 1);
        a.xgetbv();
        a.test(eax, FullSaveComponents);
        a.jnz(fullSave);
        a.test(edx, edx);
        a.jnz(fullSave);
        a.or(eax, unchecked((int)0x8000_0000));
        a.mov(__dword_ptr.fs[ContextOffsets.VectorsSaved + ContextTls.Offset], eax);
        a.stmxcsr(__dword_ptr.fs[area + 24]);
        a.fnstcw(__word_ptr.fs[ContextOffsets.GuestFpuCw + ContextTls.Offset]);
        for (int n = 0; n < 16; n++)
        {
            a.vmovdqu(__xmmword_ptr.fs[area + State.XsaveLayout.Xmm + 16 * n], Xmms[n]);
            a.vextractf128(__xmmword_ptr.fs[area + State.XsaveLayout.YmmHigh + 16 * n], Ymms[n], 1);
        }
        // XSTATE_BV as XSAVEOPT would write it: SSE and AVX held, PKRU as it was (host code leaves it
        // alone), every other component in its initial state (XINUSE says so; a stale x87 bit there
        // had the tool read TOP from an old status word).
        a.and(__qword_ptr.fs[area + State.XsaveLayout.StateMask], 0x200);
        a.or(__qword_ptr.fs[area + State.XsaveLayout.StateMask], 6);
        LoadControlWordsIfDifferent(a, ContextOffsets.HostMxcsr, ContextOffsets.HostFpuCw, ContextOffsets.XsaveArea + 24, ContextOffsets.GuestFpuCw);
        a.jmp(saved);
    }

    /// <summary>
    /// The entry's half of <see cref="EmitFastVectorSave"/>: when the exit stored by hand and host code
    /// put no other component in use since (XINUSE now against then: x87 or AVX-512 state the host
    /// touched must go back to the guest's, which XRSTOR does from the area), xmm/ymm0-15 loaded back
    /// (VEX.256: bits above 255 cleared, as they were), the upper halves made clean again (vzeroupper)
    /// when AVX state was not in use (dirty upper halves slow the guest's SSE code), MXCSR and the
    /// control word loaded when they differ. Else <paramref name="fullRestore"/>. rax, rcx, rdx and
    /// rsi are free (the guest's are loaded after).
    /// </summary>
    private static void EmitFastVectorRestore(Assembler a, Label fullRestore, Label restored)
    {
        int area = ContextOffsets.XsaveArea + ContextTls.Offset;
        a.mov(esi, __dword_ptr.fs[ContextOffsets.VectorsSaved + ContextTls.Offset]);
        a.test(esi, esi);
        a.jns(fullRestore);
        a.mov(ecx, 1);
        a.xgetbv();
        a.not(esi);
        a.and(eax, esi);
        a.test(eax, FullSaveComponents);
        a.jnz(fullRestore);
        for (int n = 0; n < 16; n++)
        {
            a.vmovdqu(Xmms[n], __xmmword_ptr.fs[area + State.XsaveLayout.Xmm + 16 * n]);
            a.vinsertf128(Ymms[n], Ymms[n], __xmmword_ptr.fs[area + State.XsaveLayout.YmmHigh + 16 * n], 1);
        }
        Label upperInUse = a.CreateLabel();
        a.test(__dword_ptr.fs[ContextOffsets.VectorsSaved + ContextTls.Offset], 4);
        a.jnz(upperInUse);
        a.vzeroupper();
        a.Label(ref upperInUse);
        LoadControlWordsIfDifferent(a, ContextOffsets.XsaveArea + 24, ContextOffsets.GuestFpuCw, ContextOffsets.HostMxcsr, ContextOffsets.HostFpuCw);
        a.jmp(restored);
    }

    /// <summary>In a signal handler (rdx = ucontext): rax = the interrupted pc; jumps to <paramref name="outside"/> unless it is in the code cache.</summary>
    private static void InterruptedPcOutsideCache(Assembler a, CodeRegion region, Label outside)
    {
        a.mov(rax, __qword_ptr[rdx + UcontextRip]);
        a.mov(rcx, region.Start);
        a.cmp(rax, rcx);
        a.jb(outside);
        a.mov(rcx, region.End);
        a.cmp(rax, rcx);
        a.jae(outside);
    }

    /// <summary>In a signal handler with rax = the interrupted pc: jumps to <paramref name="inside"/> when it is in [<paramref name="start"/>, <paramref name="end"/>). Clobbers rcx.</summary>
    private static void PcInside(Assembler a, Label start, Label end, Label inside)
    {
        Label outside = a.CreateLabel();
        a.lea(rcx, __[start]);
        a.cmp(rax, rcx);
        a.jb(outside);
        a.lea(rcx, __[end]);
        a.cmp(rax, rcx);
        a.jb(inside);
        a.Label(ref outside);
    }

    /// <summary>
    /// A SysV-callable <c>syscall</c> (number, then six arguments, the sixth on the stack) returning
    /// the raw result; labels on its start, its syscall instruction, the ret after it and its end
    /// (an int3 never reached), so a signal handler can tell where in it a thread was.
    /// </summary>
    private static void EmitSyscallStub(Assembler a, ref Label start, ref Label syscallInsn, ref Label ret, ref Label end)
    {
        a.Label(ref start);
        a.mov(rax, rdi);
        a.mov(rdi, rsi);
        a.mov(rsi, rdx);
        a.mov(rdx, rcx);
        a.mov(r10, r8);
        a.mov(r8, r9);
        a.mov(r9, __qword_ptr[rsp + 8]);
        a.Label(ref syscallInsn);
        a.syscall();
        a.Label(ref ret);
        a.ret();
        a.Label(ref end);
        a.int3();
    }

    public static RuntimeRoutines Generate(CodeRegion region)
    {
        ulong data = region.Allocate(0x400, 64);   // previous handlers [65] and a SIG_DFL sigaction
        ulong defaultAction = data + 0x300;
        var a = new Assembler(64);
        Label enter = a.CreateLabel(), exit = a.CreateLabel(), ibl = a.CreateLabel(), iblExit = a.CreateLabel();
        Label enterAfterCall = a.CreateLabel(), exitForCall = a.CreateLabel(), exitForCallStored = a.CreateLabel();
        Label interceptCall = a.CreateLabel(), interceptStored = a.CreateLabel(), interceptEnd = a.CreateLabel();
        Label iblFlagsSaved = a.CreateLabel(), rawSyscall = a.CreateLabel();
        Label faultHandler = a.CreateLabel(), faultExit = a.CreateLabel(), chain = a.CreateLabel();
        Label restorer = a.CreateLabel(), resetToDefault = a.CreateLabel();
        Label kickHandler = a.CreateLabel(), kickReturn = a.CreateLabel(), park = a.CreateLabel(), signalKick = a.CreateLabel(), interruptedCall = a.CreateLabel();
        Label safeCopy = a.CreateLabel(), safeCopyFault = a.CreateLabel();

        // Full entry restores the vector state; the entry after a replaced call does not: at a
        // call boundary every vector register is caller-saved, only MXCSR and the x87 control word
        // must survive (and XRSTOR would bring back an older MXCSR).
        foreach (bool afterCall in new[] { false, true })
        {
            // Iced records a label's position in the variable passed by ref: mark the real one.
            if (afterCall) a.Label(ref enterAfterCall);
            else a.Label(ref enter);
            foreach (int r in HostCalleeSaved) a.push(Gpr64(r));
            a.sub(rsp, 8);
            a.mov(__qword_ptr.fs[ContextOffsets.HostRsp + ContextTls.Offset], rsp);
            a.stmxcsr(__dword_ptr.fs[ContextOffsets.HostMxcsr + ContextTls.Offset]);
            a.fnstcw(__word_ptr.fs[ContextOffsets.HostFpuCw + ContextTls.Offset]);
            if (afterCall) LoadControlWordsIfDifferent(a, ContextOffsets.GuestMxcsr, ContextOffsets.GuestFpuCw, ContextOffsets.HostMxcsr, ContextOffsets.HostFpuCw);
            else
            {
                Label restored = a.CreateLabel(), fullRestore = a.CreateLabel();
                if (FastVectors) EmitFastVectorRestore(a, fullRestore, restored);
                a.Label(ref fullRestore);
                a.mov(eax, FullStateComponents);
                a.mov(edx, -1);
                a.xrstor64(__.fs[ContextOffsets.XsaveArea + ContextTls.Offset]);
                a.Label(ref restored);
            }
            // No segment base changes here: fs stays the host's thread pointer (the block is in its
            // TLS) and gs the shadow's base, both as the kernel set them (ContextTls). Guest fs is emulated.
            // After a replaced call the guest's flags are dead (the SysV ABI keeps none across a
            // call, and DF is clear on return, as the exit left it): popf is slow, skip it.
            if (!afterCall)
            {
                a.push(__qword_ptr.fs[ContextOffsets.Rflags + ContextTls.Offset]);
                a.popfq();
            }
            for (int r = 0; r < 16; r++)
                if (r != 4) a.mov(Gpr64(r), __qword_ptr.fs[ContextOffsets.OfGpr(r) + ContextTls.Offset]);
            a.mov(rsp, __qword_ptr.fs[ContextOffsets.OfGpr(4) + ContextTls.Offset]);
            a.jmp(__qword_ptr.fs[ContextOffsets.EnterTarget + ContextTls.Offset]);
        }

        foreach (bool forCall in new[] { false, true })
        {
            if (forCall) a.Label(ref exitForCall);
            else a.Label(ref exit);
            for (int r = 0; r < 16; r++) a.mov(__qword_ptr.fs[ContextOffsets.OfGpr(r) + ContextTls.Offset], Gpr64(r));
            if (forCall) a.Label(ref exitForCallStored);
            a.mov(rsp, __qword_ptr.fs[ContextOffsets.HostRsp + ContextTls.Offset]);
            a.pushfq();
            a.pop(__qword_ptr.fs[ContextOffsets.Rflags + ContextTls.Offset]);
            if (forCall)
            {
                a.stmxcsr(__dword_ptr.fs[ContextOffsets.GuestMxcsr + ContextTls.Offset]);
                a.fnstcw(__word_ptr.fs[ContextOffsets.GuestFpuCw + ContextTls.Offset]);
            }
            else
            {
                Label saved = a.CreateLabel(), fullSave = a.CreateLabel();
                if (FastVectors) EmitFastVectorSave(a, fullSave, saved);
                a.Label(ref fullSave);
                a.mov(eax, FullStateComponents);
                a.mov(edx, -1);
                a.xsaveopt64(__.fs[ContextOffsets.XsaveArea + ContextTls.Offset]);
                a.mov(__dword_ptr.fs[ContextOffsets.VectorsSaved + ContextTls.Offset], 0);
                a.ldmxcsr(__dword_ptr.fs[ContextOffsets.HostMxcsr + ContextTls.Offset]);
                a.fldcw(__word_ptr.fs[ContextOffsets.HostFpuCw + ContextTls.Offset]);
                a.Label(ref saved);
            }
            if (forCall) LoadControlWordsIfDifferent(a, ContextOffsets.HostMxcsr, ContextOffsets.HostFpuCw, ContextOffsets.GuestMxcsr, ContextOffsets.GuestFpuCw);
            a.vzeroupper();
            a.cld();
            // The guest may have set AC (CPU probes like the JVM's toggle it): with it on, the
            // host's own unaligned accesses would fault (SIGBUS, BUS_ADRALN). Rare: test first.
            Label noAlignmentCheck = a.CreateLabel();
            a.test(__dword_ptr.fs[ContextOffsets.Rflags + ContextTls.Offset], 0x40000);
            a.jz(noAlignmentCheck);
            a.push(2);
            a.popfq();
            a.Label(ref noAlignmentCheck);
            a.add(rsp, 8);
            for (int i = HostCalleeSaved.Length - 1; i >= 0; i--) a.pop(Gpr64(HostCalleeSaved[i]));
            a.ret();
        }

        EmitInterceptCall(a, ref interceptCall, ref interceptStored, ref interceptEnd, exitForCallStored);

        // Misses of the inlined lookups (IndirectBranchEmitter): the target in rcx, the victim table
        // of the site's table in eax, guest rax and rcx in their slots. The victim table is probed
        // flag-free (an indirect jmp's flags are back by then); the hit jumps on from this one shared
        // jump, which predicts worse than a site's own but costs far less than the dispatcher.
        Label victimMiss = a.CreateLabel(), victimHigh = a.CreateLabel(), victimHit = a.CreateLabel();
        // An indirect jmp's miss: its lookup saved the guest's flags (IblSaveFlags) and then
        // overwrote them; they are given back before the victim probe, which keeps them.
        a.Label(ref iblFlagsSaved);
        a.mov(__dword_ptr.fs[ContextOffsets.IblMissTable + ContextTls.Offset], eax);
        a.mov(ax, __word_ptr.fs[ContextOffsets.IblSaveFlags + ContextTls.Offset]);
        a.add(al, 0x7f);   // OF from seto's 0 or 1
        a.sahf();
        a.mov(eax, __dword_ptr.fs[ContextOffsets.IblMissTable + ContextTls.Offset]);
        a.Label(ref ibl);
        a.mov(__qword_ptr.fs[ContextOffsets.IblSaveRdx + ContextTls.Offset], rdx);
        a.mov(__dword_ptr.fs[ContextOffsets.IblMissTable + ContextTls.Offset], eax);
        a.mov(edx, eax);
        a.rorx(rax, rcx, 16);
        a.lea(eax, __[rax + rcx]);
        a.movzx(eax, ax);
        a.mov(rax, __qword_ptr[rdx + rax * 8]);
        a.rorx(rdx, rcx, 48);
        a.lea(rax, __[rax + rdx]);
        a.movzx(ecx, dx);
        a.jrcxz(victimHigh);
        a.Label(ref victimMiss);
        a.rorx(rcx, rdx, 16);
        a.mov(rdx, __qword_ptr.fs[ContextOffsets.IblSaveRdx + ContextTls.Offset]);
        a.jmp(iblExit);
        a.Label(ref victimHigh);
        a.rorx(rcx, rax, 32);
        a.db(0x67);   // jecxz: Iced assembles jrcxz only in 64-bit mode
        a.jrcxz(victimHit);
        a.jmp(victimMiss);
        a.Label(ref victimHit);
        // rax is the fragment's indirect entry, which gives rax and rcx back (IndirectBranchEmitter.IndirectEntry).
        a.mov(rdx, __qword_ptr.fs[ContextOffsets.IblSaveRdx + ContextTls.Offset]);
        a.jmp(rax);
        // Leave for the dispatcher: rcx holds the target, rax is in its slot.
        a.Label(ref iblExit);
        a.mov(__qword_ptr.fs[ContextOffsets.NextPc + ContextTls.Offset], rcx);
        a.mov(rax, __qword_ptr.fs[ContextOffsets.IblSaveRax + ContextTls.Offset]);
        a.mov(rcx, __qword_ptr.fs[ContextOffsets.IblSaveRcx + ContextTls.Offset]);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.IndirectMiss);
        a.jmp(exit);

        // A ret that matched a prediction whose continuation is no fragment (a thread's initial slots,
        // return address 0; or a continuation flushed since, see ReturnPrediction): the ret's rcx is
        // in its slot and rcx holds the guest's; leave for the dispatcher with the matched address,
        // which is still in the mode's return slot (only the thread itself writes it).
        Label returnMiss = a.CreateLabel(), returnMissMode1 = a.CreateLabel();
        a.Label(ref returnMiss);
        a.mov(__qword_ptr.fs[ContextOffsets.IblSaveRax + ContextTls.Offset], rax);
        a.mov(rcx, __qword_ptr.fs[ContextOffsets.PredictedReturn + ContextTls.Offset]);
        a.jmp(iblExit);
        a.Label(ref returnMissMode1);
        a.mov(__qword_ptr.fs[ContextOffsets.IblSaveRax + ContextTls.Offset], rax);
        a.mov(rcx, __qword_ptr.fs[ContextOffsets.PredictedReturnMode1 + ContextTls.Offset]);
        a.jmp(iblExit);

        Label rawSyscallEnd = a.CreateLabel();
        Label rawSyscallInsn = a.CreateLabel(), rawSyscallRet = a.CreateLabel();
        EmitSyscallStub(a, ref rawSyscall, ref rawSyscallInsn, ref rawSyscallRet, ref rawSyscallEnd);

        // The same for the guest's system calls made by the host (passed through, possibly blocking
        // for ever): a kick may park a thread here, never in the engine's own calls, which may hold
        // an engine lock.
        Label guestSyscall = a.CreateLabel(), guestSyscallEnd = a.CreateLabel(), guestSyscallInsn = a.CreateLabel(), guestSyscallRet = a.CreateLabel();
        EmitSyscallStub(a, ref guestSyscall, ref guestSyscallInsn, ref guestSyscallRet, ref guestSyscallEnd);

        // A fault in translated code resumes, with the guest's registers, at faultExit, which leaves
        // the cache like any exit; a fault anywhere else is the host's business: chain.
        a.Label(ref faultHandler);
        InterruptedPcOutsideCache(a, region, chain);
        // A fault of SafeCopy (host code reading or writing guest memory): its failure return.
        Label inSafeCopy = a.CreateLabel();
        PcInside(a, safeCopy, safeCopyFault, inSafeCopy);
        // An alignment-check fault (the guest set AC, as CPU probes do) in the cache: the tool's
        // shadow loads are unaligned by design. Clear AC and retry: the program loses the flag's
        // effect (its own unaligned accesses no longer fault), never its run.
        Label notAlignment = a.CreateLabel();
        a.cmp(edi, Signals.SIGBUS);
        a.jne(notAlignment);
        a.cmp(__dword_ptr[rsi + SiginfoCode], BusAdrAln);
        a.jne(notAlignment);
        a.test(__dword_ptr[rdx + UcontextEflags], AlignmentCheckFlag);
        a.jz(notAlignment);
        a.and(__dword_ptr[rdx + UcontextEflags], ~AlignmentCheckFlag);
        a.ret();
        a.Label(ref notAlignment);
        a.mov(__qword_ptr.fs[ContextOffsets.FaultCachePc + ContextTls.Offset], rax);
        a.mov(__dword_ptr.fs[ContextOffsets.FaultSignal + ContextTls.Offset], edi);
        a.mov(rax, __qword_ptr[rsi + SiginfoAddr]);
        a.mov(__qword_ptr.fs[ContextOffsets.FaultAddress + ContextTls.Offset], rax);
        a.mov(eax, __dword_ptr[rsi + SiginfoCode]);
        a.mov(__dword_ptr.fs[ContextOffsets.FaultCode + ContextTls.Offset], eax);
        a.mov(rax, __qword_ptr[rdx + UcontextErr]);
        a.mov(__qword_ptr.fs[ContextOffsets.FaultError + ContextTls.Offset], rax);
        a.lea(rax, __[faultExit]);
        a.mov(__qword_ptr[rdx + UcontextRip], rax);
        a.ret();
        a.Label(ref chain);
        a.mov(rax, data);
        a.jmp(__qword_ptr[rax + rdi * 8]);

        a.Label(ref faultExit);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.FaultInCache);
        a.jmp(exit);

        // The kick: another thread wants this one stopped (ThreadStopper). Interrupted in the code
        // cache (translated code, the routines, a blocking guest syscall in RawSyscall), the thread is
        // in preemptive mode as far as the runtime's GC is concerned, so it may park right here:
        // claim the stop, copy the guest's registers from the ucontext to the block (leak-scan
        // roots), wake the requester and wait forever. Anywhere else (C# code) it returns, and the
        // dispatcher claims the stop at its next iteration.
        a.Label(ref kickHandler);
        InterruptedPcOutsideCache(a, region, kickReturn);
        // SafeCopy is called from C# code: the dispatcher claims the stop.
        PcInside(a, safeCopy, safeCopyFault, kickReturn);
        a.cmp(__dword_ptr.fs[ContextOffsets.StopSignal + ContextTls.Offset], 0);
        a.je(signalKick);
        // In the engine's own system calls (C# code, which may hold an engine lock): the
        // dispatcher claims the stop at its next iteration.
        PcInside(a, rawSyscall, rawSyscallEnd, kickReturn);
        a.xor(eax, eax);
        a.mov(ecx, StopStates.Parked);
        a.@lock.cmpxchg(__dword_ptr.fs[ContextOffsets.StopState + ContextTls.Offset], ecx);
        a.jne(kickReturn);
        // In a guest system call the host is making for it (GuestSyscall) the guest's registers
        // are in the block already, saved when it left the cache; the ucontext holds the host's.
        // A guest system call the kick broke off with EINTR (pause(), poll(), nanosleep(): calls the
        // kernel does not restart after a handler) is made again after a pause, through the
        // dispatcher's interrupted-call path: the program never sees the kick.
        Label notBrokenOff = a.CreateLabel();
        a.mov(rax, __qword_ptr[rdx + UcontextRip]);
        a.lea(rcx, __[guestSyscallRet]);
        a.cmp(rax, rcx);
        a.jne(notBrokenOff);
        a.cmp(__qword_ptr[rdx + UcontextRax], -4);
        a.jne(notBrokenOff);
        a.mov(__qword_ptr[rdx + UcontextRax], unchecked((int)Delivery.SignalDelivery.InterruptedBeforeCall));
        a.Label(ref notBrokenOff);
        Label copied = a.CreateLabel();
        a.mov(rax, __qword_ptr[rdx + UcontextRip]);
        // So are they in InterceptCall once it has stored them (the ucontext may hold the host's rsp).
        PcInside(a, interceptStored, interceptEnd, copied);
        PcInside(a, guestSyscall, guestSyscallEnd, copied);
        for (int r = 0; r < 16; r++)
        {
            a.mov(rax, __qword_ptr[rdx + UcontextGregs + 8 * UcontextIndexOfGpr[r]]);
            a.mov(__qword_ptr.fs[ContextOffsets.OfGpr(r) + ContextTls.Offset], rax);
        }
        a.Label(ref copied);
        a.mov(rdi, __qword_ptr.fs[ContextOffsets.Self + ContextTls.Offset]);
        a.add(rdi, ContextOffsets.StopState);
        a.mov(esi, FutexWakePrivate);
        a.mov(edx, int.MaxValue);
        a.mov(eax, 202);   // futex
        a.syscall();
        a.Label(ref park);
        a.mov(rdi, __qword_ptr.fs[ContextOffsets.Self + ContextTls.Offset]);
        a.add(rdi, ContextOffsets.StopState);
        a.mov(esi, FutexWaitPrivate);
        a.mov(edx, StopStates.Parked);
        a.xor(r10d, r10d);
        a.mov(eax, 202);
        a.syscall();
        // Parked until someone resumes the thread (a pause ends: ThreadStopper.Resume); for the end
        // of the process, never.
        a.cmp(__dword_ptr.fs[ContextOffsets.StopState + ContextTls.Offset], StopStates.Parked);
        a.je(park);
        a.ret();
        // A kick for a signal (Delivery.SignalDelivery): a guest system call about to be made or
        // blocked in the kernel returns at once, with a code that says whether it had started
        // (the kernel has already set a blocking call up to restart: pc back on the syscall);
        // the dispatcher then runs the handler and restarts the call or fails it with EINTR.
        // Anywhere else the thread reaches its dispatcher soon by itself (the cache is unlinked).
        a.Label(ref signalKick);
        a.lea(rcx, __[guestSyscall]);
        a.cmp(rax, rcx);
        a.jb(kickReturn);
        a.lea(rcx, __[guestSyscallInsn]);
        a.cmp(rax, rcx);
        a.ja(kickReturn);
        a.mov(__qword_ptr[rdx + UcontextRax], unchecked((int)Delivery.SignalDelivery.InterruptedRestartable));
        a.je(interruptedCall);
        a.mov(__qword_ptr[rdx + UcontextRax], unchecked((int)Delivery.SignalDelivery.InterruptedBeforeCall));
        a.Label(ref interruptedCall);
        a.lea(rcx, __[guestSyscallRet]);
        a.mov(__qword_ptr[rdx + UcontextRip], rcx);
        a.Label(ref kickReturn);
        a.ret();

        // SafeCopy: rep movsb (the host's direction flag is clear, as the ABI keeps it); a fault in
        // it resumes at safeCopyFault with the stack as it was at the call.
        a.Label(ref safeCopy);
        a.mov(rcx, rdx);
        a.rep.movsb();
        a.mov(eax, 1);
        a.ret();
        a.Label(ref safeCopyFault);
        a.xor(eax, eax);
        a.ret();
        a.Label(ref inSafeCopy);
        a.lea(rax, __[safeCopyFault]);
        a.mov(__qword_ptr[rdx + UcontextRip], rax);
        a.ret();

        a.Label(ref restorer);
        a.mov(eax, 15);   // rt_sigreturn
        a.syscall();

        a.Label(ref resetToDefault);
        a.mov(rsi, defaultAction);
        a.xor(edx, edx);
        a.mov(r10d, 8);
        a.mov(eax, 13);   // rt_sigaction(sig, SIG_DFL, NULL, 8)
        a.syscall();
        a.ret();


        ulong at = region.Allocate(0x1000, 4096);
        var writer = new ListCodeWriter();
        var result = a.Assemble(writer, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        if (writer.Bytes.Count > 0x1000) throw new EngineException("runtime routines exceed their page");
        CodeRegion.Write(at, writer.Bytes.ToArray());
        if (Translation.BlockTranslator.Trace)
            Console.Error.WriteLine($"memcheck-trace: routine runtime routines at 0x{at:x}+{writer.Bytes.Count} {Convert.ToHexString(writer.Bytes.ToArray())}");
        return new RuntimeRoutines
        {
            Enter = result.GetLabelRIP(enter),
            Exit = result.GetLabelRIP(exit),
            EnterAfterCall = result.GetLabelRIP(enterAfterCall),
            ExitForCall = result.GetLabelRIP(exitForCall),
            InterceptCall = result.GetLabelRIP(interceptCall),
            IndirectBranchMiss = result.GetLabelRIP(ibl),
            IndirectBranchMissFlagsSaved = result.GetLabelRIP(iblFlagsSaved),
            ReturnMiss = result.GetLabelRIP(returnMiss),
            ReturnMissMode1 = result.GetLabelRIP(returnMissMode1),
            RawSyscall = result.GetLabelRIP(rawSyscall),
            GuestSyscall = result.GetLabelRIP(guestSyscall),
            FaultHandler = result.GetLabelRIP(faultHandler),
            SignalRestorer = result.GetLabelRIP(restorer),
            ResetToDefault = result.GetLabelRIP(resetToDefault),
            KickHandler = result.GetLabelRIP(kickHandler),
            PreviousHandlers = data,
            SafeCopy = result.GetLabelRIP(safeCopy),
        };
    }

    /// <summary>
    /// The replaced call from the cache (DynamoRIO's clean call): the guest's registers into the
    /// block (the handler reads its arguments and stack there, and every way out of the cache expects
    /// them), then the host's stack, and the C# entry. The host's MXCSR and x87 control
    /// word must be in force (the SysV ABI keeps them across calls) and AC clear (the host's own
    /// unaligned accesses would fault): otherwise, and whenever the entry says so, the ordinary
    /// exit for a call. Back in the guest, the caller-saved registers get their values from before
    /// the call (as after the dispatcher's round trip), rax the result.
    /// </summary>
    private static void EmitInterceptCall(Assembler a, ref Label start, ref Label stored, ref Label end, Label exitForCallStored)
    {
        Label leave = a.CreateLabel(), backToGuest = a.CreateLabel(), csharp = a.CreateLabel();
        a.Label(ref start);
        for (int r = 0; r < 16; r++) a.mov(__qword_ptr.fs[ContextOffsets.OfGpr(r) + ContextTls.Offset], Gpr64(r));
        a.Label(ref stored);
        // The tool's native fast path first (ContextOffsets.InterceptFast), when it has one and AC is
        // clear: no MXCSR or x87 control word read, no reverse P/Invoke. It touches no
        // vector or x87 state, so nothing of that needs keeping; rsp is the host's, as for C#.
        a.mov(rax, __qword_ptr.fs[ContextOffsets.InterceptFast + ContextTls.Offset]);
        a.test(rax, rax);
        a.jz(csharp);
        a.mov(rsp, __qword_ptr.fs[ContextOffsets.HostRsp + ContextTls.Offset]);
        a.pushfq();
        a.pop(rcx);
        a.test(ecx, AlignmentCheckFlag);
        a.jnz(csharp);
        a.cld();
        a.mov(rdi, __qword_ptr.fs[ContextOffsets.Self + ContextTls.Offset]);
        a.mov(esi, __dword_ptr.fs[ContextOffsets.InterceptCall + ContextTls.Offset]);
        a.mov(rdx, __qword_ptr.fs[ContextOffsets.InterceptFastData + ContextTls.Offset]);
        a.call(rax);
        a.test(eax, eax);
        a.jz(csharp);
        // Asked to stop meanwhile (a kick landing outside the cache returns): the dispatcher takes
        // it, and finishes the call (its ret) as after a C# handler's.
        a.cmp(__dword_ptr.fs[ContextOffsets.StopSignal + ContextTls.Offset], 0);
        a.je(backToGuest);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.InterceptDone);
        a.jmp(leave);
        a.Label(ref csharp);
        // MXCSR's control bits (its low six are sticky exception flags the guest's arithmetic sets).
        a.stmxcsr(__dword_ptr.fs[ContextOffsets.GuestMxcsr + ContextTls.Offset]);
        a.mov(eax, __dword_ptr.fs[ContextOffsets.GuestMxcsr + ContextTls.Offset]);
        a.xor(eax, __dword_ptr.fs[ContextOffsets.HostMxcsr + ContextTls.Offset]);
        a.test(eax, ~MxcsrFlags);
        a.jnz(leave);
        a.fnstcw(__word_ptr.fs[ContextOffsets.GuestFpuCw + ContextTls.Offset]);
        a.movzx(eax, __word_ptr.fs[ContextOffsets.GuestFpuCw + ContextTls.Offset]);
        a.cmp(ax, __word_ptr.fs[ContextOffsets.HostFpuCw + ContextTls.Offset]);
        a.jne(leave);
        a.mov(rsp, __qword_ptr.fs[ContextOffsets.HostRsp + ContextTls.Offset]);
        a.pushfq();
        a.pop(rax);
        a.test(eax, AlignmentCheckFlag);
        a.jnz(leave);
        a.cld();
        a.vzeroupper();
        a.mov(edi, __dword_ptr.fs[ContextOffsets.InterceptCall + ContextTls.Offset]);
        a.mov(rsi, __qword_ptr.fs[ContextOffsets.Self + ContextTls.Offset]);
        a.mov(rax, Dispatch.InterceptCalls.EntryPoint);
        a.call(rax);
        // The guest's exception flags back, whatever the C# code's arithmetic set: loaded blind, as
        // ldmxcsr costs ~0.5 ns on this VM where reading MXCSR to compare (stmxcsr) cost ~6 ns a call.
        a.ldmxcsr(__dword_ptr.fs[ContextOffsets.GuestMxcsr + ContextTls.Offset]);
        a.test(eax, eax);
        a.jnz(leave);
        a.Label(ref backToGuest);
        foreach (int r in (int[])[1, 2, 6, 7, 8, 9, 10, 11]) a.mov(Gpr64(r), __qword_ptr.fs[ContextOffsets.OfGpr(r) + ContextTls.Offset]);
        a.mov(rax, __qword_ptr.fs[ContextOffsets.OfGpr(0) + ContextTls.Offset]);
        a.mov(rsp, __qword_ptr.fs[ContextOffsets.OfGpr(4) + ContextTls.Offset]);
        a.jmp(__qword_ptr.fs[ContextOffsets.LinkReturn + ContextTls.Offset]);
        a.Label(ref leave);
        a.jmp(exitForCallStored);
        a.Label(ref end);
        a.int3();   // never reached: the end label needs an instruction
    }

    internal static AssemblerRegister64 Gpr64(int hardwareIndex) => hardwareIndex switch
    {
        0 => rax, 1 => rcx, 2 => rdx, 3 => rbx, 4 => rsp, 5 => rbp, 6 => rsi, 7 => rdi,
        8 => r8, 9 => r9, 10 => r10, 11 => r11, 12 => r12, 13 => r13, 14 => r14, _ => r15,
    };
}

/// <summary>Reserved values of <see cref="ContextOffsets.ExitId"/>; non-negative values index the exit table.</summary>
public static class ExitIds
{
    public const int IndirectMiss = -1;
    /// <summary>A synchronous signal in translated code; details in the context block's Fault* slots.</summary>
    public const int FaultInCache = -2;
    /// <summary>A tool routine needs C# (memcheck: an access check found a bad byte); <see cref="Tools.Tool.OnToolExit"/> handles it, then the thread resumes at gs:[LinkReturn].</summary>
    public const int ToolExit = -3;
    /// <summary>A replaced function ran from the cache (<see cref="Dispatch.InterceptCalls"/>) and the dispatcher finishes its call (a tail call, a fault, a stop).</summary>
    public const int InterceptDone = -4;
}
