using System.Runtime.Versioning;
using Checker.Engine.Dispatch;
using Checker.Engine.Memory;
using Checker.Engine.State;
using Checker.Reports;
using Checker.Symbols.Unwinding;

namespace Checker.Memcheck;

/// <summary>
/// The program's death by a synchronous signal, reported as Valgrind does: an access that faulted
/// is an UNADDRESSABLE ACCESS error with the whole callstack unwound from the faulting instruction
/// (counted, in the JSON), then a note of the death itself; any other fault (ud2, a division by
/// zero, int3) is the note with its callstack.
/// </summary>
[SupportedOSPlatform("linux")]
public static class CrashReport
{
    /// <param name="mainStack">The main stack's limit (lowest address) and top: an access just below the limit is a stack overflow.</param>
    public static DeathInfo Report(GuestFault fault, GuestMappings mappings, (ulong Limit, ulong Top) mainStack, ReportSession reports, int maxFrames)
    {
        (IReadOnlyList<ulong> stack, int? errorId) = ReportAccess(fault, mappings, mainStack, reports, maxFrames);
        IReadOnlyList<ReportFrame> frames = reports.SymbolizedStack(stack, innermostIsExact: true);
        string cause = Cause(fault);
        // Where, as the frame shows it (a replaced routine as the libc one, never memcheck's paths).
        string where = frames.Count > 0 && frames[0].Function is not null ? $" in {frames[0]}" : "";
        string headline = $"the program was killed by {Signals.Name(fault.Signal)}{(cause.Length > 0 ? $" ({cause})" : "")}"
            + (errorId is int id ? $", the access of Error #{id}" : "") + $" at 0x{fault.Pc:x}: {fault.Instruction}{where}";
        // With an error the stack is already shown there; alone, the note carries it.
        reports.WriteNote(headline, errorId is null ? frames : []);
        return new DeathInfo(fault.Signal, Signals.Name(fault.Signal), headline, fault.Pc,
            fault.Signal is Signals.SIGSEGV or Signals.SIGBUS ? fault.Address : null, frames, errorId);
    }

    /// <summary>The faulting access as an error (when the fault was an access); returns the stack and the error's number.</summary>
    public static (IReadOnlyList<ulong> Stack, int? ErrorId) ReportAccess(GuestFault fault, GuestMappings mappings, (ulong Limit, ulong Top) mainStack,
        ReportSession reports, int maxFrames)
    {
        IReadOnlyList<ulong> stack = Unwind(fault, maxFrames);
        int? errorId = null;
        if (fault.Access is FaultAccess access && fault.Signal is Signals.SIGSEGV or Signals.SIGBUS)
            errorId = reports.OnFaultingAccess(access.Kind, access.Address, access.Size, Where(fault, access, mappings, mainStack), stack);
        return (stack, errorId);
    }

    /// <summary>
    /// Whether a fault the program's own handler takes is reported: not a write to memory that is
    /// mapped readable but not writable, nor a protection-key fault (SEGV_PKUERR). Programs do those
    /// on purpose and handle them (a collector's write barrier on pages it protected, a JIT's
    /// guard); Valgrind, which tracks no write permission, reports neither. An access to unmapped
    /// memory (a null pointer) or to a page without read permission still is, as Valgrind's is.
    /// Nor is a SIGBUS (a mapped file's page past its end: a program mapping a file another may
    /// truncate recovers from it; the memory is mapped, and Valgrind reports none).
    /// </summary>
    public static bool ReportedWhenHandled(GuestFault fault, GuestMappings mappings)
    {
        if (fault.Signal == Signals.SIGBUS) return false;
        if (fault.Signal != Signals.SIGSEGV || fault.Access is not FaultAccess access) return true;
        if (fault.Code == GuestFault.SegvPkuErr) return false;
        return !(fault.Code == GuestFault.SegvAccErr && access.Kind == FaultAccessKind.Write
            && mappings.ProtectionAt(access.Address) is int p && (p & GuestMappings.Read) != 0 && (p & GuestMappings.Write) == 0);
    }

    /// <summary>The guest's stack at the fault, innermost (the faulting pc) first.</summary>
    public static IReadOnlyList<ulong> Unwind(GuestFault fault, int maxFrames)
    {
        var registers = new UnwindRegisters(fault.Pc, fault.Rsp, fault.Rbp);
        // Hardware order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15) to DWARF numbering.
        ReadOnlySpan<DwarfRegister> dwarf =
        [
            DwarfRegister.Rax, DwarfRegister.Rcx, DwarfRegister.Rdx, DwarfRegister.Rbx, DwarfRegister.Rsp, DwarfRegister.Rbp,
            DwarfRegister.Rsi, DwarfRegister.Rdi, DwarfRegister.R8, DwarfRegister.R9, DwarfRegister.R10, DwarfRegister.R11,
            DwarfRegister.R12, DwarfRegister.R13, DwarfRegister.R14, DwarfRegister.R15,
        ];
        for (int r = 0; r < 16; r++) registers[dwarf[r]] = fault.Registers[r];
        using var walker = new CallstackWalker(ProcessMemoryReader.Current,
            pc => ModuleLocator.Find(pc) is ModuleLocation m ? (m.Path, m.LoadBias) : null);
        try
        {
            return walker.Walk(registers, maxFrames).Select(f => f.Pc).ToList();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A report never fails for want of a stack: the faulting pc alone.
            return [fault.Pc];
        }
    }

    /// <summary>What lies at the faulting address, as the headline's detail.</summary>
    public static string Where(GuestFault fault, FaultAccess access, GuestMappings mappings, (ulong Limit, ulong Top) mainStack)
    {
        const int SiKernel = 0x80;
        // The guard gap below the stack's RLIMIT_STACK limit, reached from the stack: Valgrind's "Stack overflow in thread #1".
        if (access.Kind != FaultAccessKind.Execute && access.Address < mainStack.Limit
            && access.Address >= mainStack.Limit - AddressSpaceLayout.StackGuardGap && fault.Rsp < mainStack.Top && fault.Rsp >= mainStack.Limit - AddressSpaceLayout.StackGuardGap)
            return $"beyond the stack limit (stack overflow: RLIMIT_STACK is {(mainStack.Top - mainStack.Limit) >> 10} KiB)";
        if (fault.Code == SiKernel && fault.Address == 0) return "at a non-canonical address";
        if (fault.Signal == Signals.SIGBUS) return "beyond the end of a mapped file";
        int? prot = mappings.ProtectionAt(access.Address);
        string module = ModuleLocator.Describe(access.Address) is string m ? $" ({m})" : "";
        if (fault.Code == GuestFault.SegvPkuErr && prot is not null) return "of memory its protection key forbids" + module;
        if (fault.Code != GuestFault.SegvAccErr || prot is not int p) return "not within a mapped region";
        if (access.Kind == FaultAccessKind.Execute) return "of non-executable memory" + module;
        if (access.Kind == FaultAccessKind.Write && (p & GuestMappings.Read) != 0 && (p & GuestMappings.Write) == 0) return "of read-only memory" + module;
        return "of memory without access permission" + module;
    }

    /// <summary>The si_code of a non-access fault, in words.</summary>
    private static string Cause(GuestFault fault) => (fault.Signal, fault.Code) switch
    {
        (Signals.SIGFPE, 1) => "integer divide by zero",
        (Signals.SIGFPE, 2) => "integer overflow",
        (Signals.SIGFPE, >= 3 and <= 8) => "floating-point exception",
        (Signals.SIGILL, _) => "illegal instruction",
        (Signals.SIGTRAP, _) => "breakpoint trap",
        _ => "",
    };
}
