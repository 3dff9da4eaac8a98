using Checker.Engine.State;
using Checker.Symbols.Unwinding;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The leak scan's register and stack roots at exit_group. Valgrind sees only the words a program
/// wrote (its stack below the stack pointer and fresh frames read as undefined), so the frames of
/// exit() and of what it calls, laid over the dead frames of the functions main called, hide their
/// stale pointers from it. memcheck has no definedness for the stack, so it leaves those frames
/// out instead: it unwinds (CFI) from the exit_group syscall to the frame of libc's <c>exit</c>,
/// and roots the scan in its caller's state, the callee-saved registers as they were at the call
/// (restored from where exit's path saved them) and the stack from the caller's stack pointer up.
/// Without an exit frame (_exit, a raw exit_group, no CFI) the roots are the registers at the
/// syscall and the stack from rsp up: never anything below rsp.
/// </summary>
public static unsafe class ExitPathRoots
{
    // The DWARF number of each hardware register (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15).
    private static readonly DwarfRegister[] DwarfOfHardware =
    [
        DwarfRegister.Rax, DwarfRegister.Rcx, DwarfRegister.Rdx, DwarfRegister.Rbx, DwarfRegister.Rsp, DwarfRegister.Rbp,
        DwarfRegister.Rsi, DwarfRegister.Rdi, DwarfRegister.R8, DwarfRegister.R9, DwarfRegister.R10, DwarfRegister.R11,
        DwarfRegister.R12, DwarfRegister.R13, DwarfRegister.R14, DwarfRegister.R15,
    ];

    private static readonly DwarfRegister[] CalleeSaved =
        [DwarfRegister.Rbx, DwarfRegister.Rbp, DwarfRegister.R12, DwarfRegister.R13, DwarfRegister.R14, DwarfRegister.R15];

    /// <summary>The general registers to scan and where the stack scan starts.</summary>
    /// <param name="context">The guest's registers; after exit_group rcx holds the pc after the syscall.</param>
    /// <param name="afterExitGroup">The guest ended with exit_group (so rcx is that pc).</param>
    /// <param name="exitCode">libc's exit() [start, end), when a module defines it.</param>
    public static (List<ulong> Registers, ulong StackFrom) Find(ContextBlock* context, bool afterExitGroup, (ulong Start, ulong End)? exitCode,
        ulong stackTop, Func<ulong, (string Path, ulong LoadBias)?> modules)
    {
        var atSyscall = new List<ulong>();
        for (int r = 0; r < 16; r++) atSyscall.Add(context->Gpr[r]);
        if (!afterExitGroup || exitCode is not (ulong start, ulong end) || context->Rsp >= stackTop) return (atSyscall, context->Rsp);

        var registers = new UnwindRegisters(context->Rcx, context->Rsp, context->Gpr[5]);
        for (int r = 0; r < 16; r++)
            if (DwarfOfHardware[r] is not (DwarfRegister.Rsp or DwarfRegister.Rcx)) registers[DwarfOfHardware[r]] = context->Gpr[r];
        using var walker = new CallstackWalker(ProcessMemoryReader.Current, modules, new CallstackWalkerOptions { StackEnd = stackTop, MaxFrames = 64 });
        // Up to exit's caller: the frames beyond it are not used (and past _start the walk would scan the stack).
        bool inExit = false;
        var frames = walker.WalkWithRegisters(registers, isLast: f =>
        {
            bool callerOfExit = inExit;
            inExit = f.LookupPc >= start && f.LookupPc < end;
            return callerOfExit && !inExit;
        });
        // A callee-saved register a frame's CFI has no rule for keeps its value (the function does
        // not touch it, or it would have saved it): carry each one outwards from the innermost frame.
        var held = new ulong?[CalleeSaved.Length];
        for (int i = 0; i < CalleeSaved.Length; i++) held[i] = registers[CalleeSaved[i]];
        for (int k = 0; k + 1 < frames.Count; k++)
        {
            if (frames[k + 1].Frame.Method != UnwindMethod.Cfi) break;   // the callee-saved registers are known only through CFI
            UnwindRegisters caller = frames[k + 1].Registers;
            for (int i = 0; i < CalleeSaved.Length; i++) held[i] = caller[CalleeSaved[i]] ?? held[i];
            if (frames[k].Frame.LookupPc < start || frames[k].Frame.LookupPc >= end) continue;
            return ([.. held.OfType<ulong>()], caller.Rsp);
        }
        return (atSyscall, context->Rsp);
    }
}
