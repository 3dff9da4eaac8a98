using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// A register's full register, size and number from flat tables. Iced's <c>GetFullRegister</c>,
/// <c>GetSize</c> and <c>GetNumber</c> each return a 10-byte struct through the stack and read it
/// back wider than it was written, a failed store forward of ~5 ns per call: 12% of a tool exit's
/// time in a loop of propagation exits, called a dozen times per exit.
/// </summary>
public static class RegisterFacts
{
    // Iced's registers are numbered below 256 (its own tables check that bound).
    private const int Count = 256;
    private static readonly Register[] s_full = Table(r => r.GetFullRegister());
    private static readonly int[] s_size = Table(r => r.GetSize());
    private static readonly int[] s_number = Table(r => r.GetNumber());

    private static T[] Table<T>(Func<Register, T> fact)
    {
        var table = new T[Count];
        for (int i = 0; i < Count; i++) table[i] = fact((Register)i);
        return table;
    }

    /// <summary>As Iced's <c>GetFullRegister</c>: rax for al, ax, eax; zmm3 for xmm3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Register Full(this Register register) => s_full[(int)register];

    /// <summary>As Iced's <c>GetSize</c>: the register's size in bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Bytes(this Register register) => s_size[(int)register];

    /// <summary>As Iced's <c>GetNumber</c>: its number within its kind (5 for xmm5 and r5... rbp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Number(this Register register) => s_number[(int)register];
}
