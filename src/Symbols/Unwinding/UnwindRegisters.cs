namespace Checker.Symbols.Unwinding;

/// <summary>x86-64 registers in DWARF numbering (System V psABI, table 3.36), as .eh_frame names them.</summary>
public enum DwarfRegister
{
    Rax = 0,
    Rdx = 1,
    Rcx = 2,
    Rbx = 3,
    Rsi = 4,
    Rdi = 5,
    Rbp = 6,
    Rsp = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
    R11 = 11,
    R12 = 12,
    R13 = 13,
    R14 = 14,
    R15 = 15,

    /// <summary>The return-address column: the pc.</summary>
    Rip = 16,
}

/// <summary>
/// The general-purpose registers of one frame, each known or not (null): the innermost frame's
/// come from the thread's context; a caller's are what unwinding could restore (CFI restores the
/// callee-saved ones it describes, a frame-pointer or scan step only rip, rsp and rbp).
/// </summary>
public sealed class UnwindRegisters
{
    /// <summary>Registers 0..16 in DWARF numbering.</summary>
    public const int Count = 17;

    private readonly ulong?[] _values = new ulong?[Count];

    /// <summary>Registers with rip, rsp and rbp known and the rest unknown.</summary>
    public UnwindRegisters(ulong rip, ulong rsp, ulong rbp)
    {
        Rip = rip;
        Rsp = rsp;
        this[DwarfRegister.Rbp] = rbp;
    }

    private UnwindRegisters()
    {
    }

    /// <summary>A register's value, or null when unknown.</summary>
    public ulong? this[DwarfRegister register]
    {
        get => _values[(int)register];
        set => _values[(int)register] = value;
    }

    /// <summary>A register by DWARF number; null when unknown or not a general-purpose register.</summary>
    public ulong? this[int dwarfNumber]
    {
        get => dwarfNumber is >= 0 and < Count ? _values[dwarfNumber] : null;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dwarfNumber);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(dwarfNumber, Count);
            _values[dwarfNumber] = value;
        }
    }

    /// <summary>The pc (always known).</summary>
    public ulong Rip
    {
        get => _values[(int)DwarfRegister.Rip]!.Value;
        set => _values[(int)DwarfRegister.Rip] = value;
    }

    /// <summary>The stack pointer (always known).</summary>
    public ulong Rsp
    {
        get => _values[(int)DwarfRegister.Rsp]!.Value;
        set => _values[(int)DwarfRegister.Rsp] = value;
    }

    /// <summary>The frame pointer, or null when unknown.</summary>
    public ulong? Rbp
    {
        get => _values[(int)DwarfRegister.Rbp];
        set => _values[(int)DwarfRegister.Rbp] = value;
    }

    /// <summary>A copy, for the caller's frame to start from.</summary>
    public UnwindRegisters Clone()
    {
        var copy = new UnwindRegisters();
        _values.CopyTo(copy._values, 0);
        return copy;
    }
}

/// <summary>How a frame's pc was found.</summary>
public enum UnwindMethod
{
    /// <summary>The innermost frame: the pc of the registers given.</summary>
    Registers,

    /// <summary>The callee's .eh_frame CFI gave the caller's CFA and return address (at CFA-8).</summary>
    Cfi,

    /// <summary>The frame-pointer chain: the return address at rbp+8, the caller's rbp at rbp.</summary>
    FramePointer,

    /// <summary>A stack word that points into a code module just after a call instruction (a guess).</summary>
    Scan,
}

/// <summary>One frame of a walked callstack.</summary>
/// <param name="Pc">The frame's pc: the innermost frame's rip, else the return address into it.</param>
/// <param name="Sp">The frame's stack pointer (for a caller, the callee's CFA).</param>
/// <param name="Method">How <paramref name="Pc"/> was found.</param>
/// <param name="IsReturnAddress">
/// <paramref name="Pc"/> is a return address: the instruction after the call. It may belong to the
/// next line or even the next function (after a call to a noreturn function), so such a frame is
/// looked up, for CFI and for symbolization, at <see cref="LookupPc"/> = Pc - 1, inside the call.
/// False for the innermost frame and for a frame interrupted by a signal (the callee's FDE is a
/// signal frame's), whose pc is the instruction that was about to run.
/// </param>
public readonly record struct UnwoundFrame(ulong Pc, ulong Sp, UnwindMethod Method, bool IsReturnAddress)
{
    /// <summary>The address to symbolize and to find CFI at: Pc - 1 for a return address, else Pc.</summary>
    public ulong LookupPc => IsReturnAddress ? Pc - 1 : Pc;

    public override string ToString() => $"0x{Pc:x} sp=0x{Sp:x} ({Method})";
}
