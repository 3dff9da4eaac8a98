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

    // The values in the object itself, with a bit per known register: no second object, and half
    // the bytes of a ulong?[17]. Frame rules are derived with a few of these per distinct pc (two
    // probes, each stepping a copy), and cc1plus's callstacks meet tens of thousands of pcs: the
    // array form was ~0.7% of its samples in allocation.
    private Values _values;
    private uint _known;

    [System.Runtime.CompilerServices.InlineArray(Count)]
    private struct Values
    {
        private ulong _value;
    }

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

    private ulong? Get(int register) => (_known >> register & 1) != 0 ? _values[register] : null;

    private void Set(int register, ulong? value)
    {
        if (value is ulong known)
        {
            _values[register] = known;
            _known |= 1u << register;
        }
        else
        {
            _values[register] = 0;
            _known &= ~(1u << register);
        }
    }

    /// <summary>A register's value, or null when unknown.</summary>
    public ulong? this[DwarfRegister register]
    {
        get => Get((int)register);
        set => Set((int)register, value);
    }

    /// <summary>A register by DWARF number; null when unknown or not a general-purpose register.</summary>
    public ulong? this[int dwarfNumber]
    {
        get => dwarfNumber is >= 0 and < Count ? Get(dwarfNumber) : null;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dwarfNumber);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(dwarfNumber, Count);
            Set(dwarfNumber, value);
        }
    }

    /// <summary>The pc (always known).</summary>
    public ulong Rip
    {
        get => Get((int)DwarfRegister.Rip)!.Value;
        set => Set((int)DwarfRegister.Rip, value);
    }

    /// <summary>The stack pointer (always known).</summary>
    public ulong Rsp
    {
        get => Get((int)DwarfRegister.Rsp)!.Value;
        set => Set((int)DwarfRegister.Rsp, value);
    }

    /// <summary>The frame pointer, or null when unknown.</summary>
    public ulong? Rbp
    {
        get => Get((int)DwarfRegister.Rbp);
        set => Set((int)DwarfRegister.Rbp, value);
    }

    /// <summary>A copy, for the caller's frame to start from.</summary>
    public UnwindRegisters Clone() => new() { _values = _values, _known = _known };
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
