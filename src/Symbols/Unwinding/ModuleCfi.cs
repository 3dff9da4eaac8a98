using System.Runtime.InteropServices;
using Checker.Symbols.Native;
using Microsoft.Win32.SafeHandles;
using static Checker.Symbols.Native.LibDw;

namespace Checker.Symbols.Unwinding;

/// <summary>
/// The .eh_frame call frame information of one ELF file, read through libdw
/// (<c>dwelf_elf_begin</c> + <c>dwarf_getcfi_elf</c>), and one unwind step with it:
/// <c>dwarf_cfi_addrframe</c> gives the rules at a pc, <c>dwarf_frame_cfa</c> the CFA expression,
/// <c>dwarf_frame_register</c> where each caller register was saved. The expressions are evaluated
/// here over the callee's registers and the memory reader. Not thread-safe (a libdw CFI cache is
/// not): <see cref="CallstackWalker"/> locks it.
/// </summary>
internal sealed unsafe class ModuleCfi : IDisposable
{
    private static readonly Lazy<bool> ElfInitialised = new(() => ElfVersion(EV_CURRENT) != 0);

    private readonly SafeFileHandle _file;
    private nint _elf;
    private nint _cfi;

    private ModuleCfi(string path, SafeFileHandle file, nint elf, nint cfi)
    {
        Path = path;
        _file = file;
        _elf = elf;
        _cfi = cfi;
    }

    public string Path { get; }

    /// <summary>The CFI of <paramref name="path"/>, or null when the file cannot be read or has no .eh_frame.</summary>
    public static ModuleCfi? Open(string path)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        _ = ElfInitialised.Value;
        // libelf keeps reading through the descriptor, so the ModuleCfi owns it (never released early).
        bool added = false;
        file.DangerousAddRef(ref added);
        nint elf = DwelfElfBegin((int)file.DangerousGetHandle());
        nint cfi = elf == 0 ? 0 : GetCfiElf(elf);
        if (cfi != 0) return new ModuleCfi(path, file, elf, cfi);

        Errno(); // clear the thread's libdw error
        if (elf != 0) ElfEnd(elf);
        file.DangerousRelease();
        file.Dispose();
        return null;
    }

    /// <summary>
    /// Unwinds one frame: the caller's registers from the callee's <paramref name="callee"/>, whose
    /// CFI is looked up at link-time address <paramref name="linkPc"/>. Registers the CFI does not
    /// describe keep their value when it says "same value" and become unknown when undefined; the
    /// caller's rsp is the CFA (x86-64) and its rip the return address. False when no FDE covers
    /// the pc, or an expression needs an unknown register or unreadable memory.
    /// </summary>
    public bool TryStep(ulong linkPc, UnwindRegisters callee, IMemoryReader memory, out UnwindRegisters caller, out bool callerPcIsExact)
    {
        caller = null!;
        callerPcIsExact = false;
        ObjectDisposedException.ThrowIf(_cfi == 0, this);
        nint frame;
        if (CfiAddrFrame(_cfi, linkPc, &frame) != 0)
        {
            Errno();
            return false;
        }
        try
        {
            ulong start, end;
            byte signal;
            int returnRegister = FrameInfo(frame, &start, &end, &signal);
            callerPcIsExact = signal != 0; // the callee is a signal frame: the caller was interrupted, not calling

            DwarfOp* ops;
            nuint count;
            if (FrameCfa(frame, &ops, &count) != 0 || count == 0) return false;
            // The expression's result is the CFA itself (DW_CFA_def_cfa_expression is not dereferenced).
            if (!DwarfExpression.TryEvaluate(new ReadOnlySpan<DwarfOp>(ops, (int)count), callee, null, memory, out ulong cfa, out bool isValue))
                return false;

            var result = callee.Clone();
            DwarfOp* opsMemory = stackalloc DwarfOp[3];
            for (int register = 0; register < UnwindRegisters.Count; register++)
            {
                if (register == (int)DwarfRegister.Rsp) continue;
                result[register] = null;
                if (FrameRegister(frame, register, opsMemory, &ops, &count) != 0)
                {
                    Errno();
                    continue;
                }
                if (count == 0)
                {
                    // libdw 0.188: *ops NULL means "same value" (also for unspecified registers),
                    // *ops == ops_mem means undefined (e.g. the return address of _start).
                    if (ops == null) result[register] = callee[register];
                    continue;
                }
                if (!DwarfExpression.TryEvaluate(new ReadOnlySpan<DwarfOp>(ops, (int)count), callee, cfa, memory, out ulong location, out isValue))
                    continue;
                if (isValue) result[register] = location;
                else if (memory.TryReadUInt64(location, out ulong saved)) result[register] = saved;
            }

            if (returnRegister != (int)DwarfRegister.Rip) result[DwarfRegister.Rip] = result[returnRegister];
            if (result[DwarfRegister.Rip] is not { } returnAddress || returnAddress == 0) return false;
            result.Rsp = cfa;
            caller = result;
            return true;
        }
        finally
        {
            NativeMemory.Free((void*)frame);
        }
    }

    public void Dispose()
    {
        if (_cfi == 0) return;
        CfiEnd(_cfi);
        ElfEnd(_elf);
        _cfi = 0;
        _elf = 0;
        _file.DangerousRelease();
        _file.Dispose();
    }
}
