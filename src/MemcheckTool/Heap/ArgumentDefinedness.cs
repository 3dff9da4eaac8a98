using System.Runtime.CompilerServices;
using Checker.Engine.State;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// The replaced functions under definedness checking: their undefined arguments are reported (the
/// handlers are C#, which no propagation sees) and their result is defined (computed from arguments
/// taken as defined). Every malloc and free passes here, so the common case is a test of the
/// register shadows' dirty bits (<see cref="MemcheckSlots.Dirty"/>): while the argument registers'
/// bits are clear their shadows are all defined, and nothing else needs to be read. The handlers
/// call <see cref="Check"/> and <see cref="DefineResult"/> themselves (no wrapper delegate per call).
/// </summary>
/// <param name="checks">Read only when an argument register is dirty (it is set after the functions are).</param>
internal sealed unsafe class ArgumentDefinedness(Func<DefinednessChecks?> checks)
{
    // The registers of a replaced function's parameters, as DefinednessChecks.CheckArguments reads them.
    private static readonly Register[] ArgumentRegisters = [Register.RDI, Register.RSI, Register.RDX];

    private readonly int _resultSlot = ShadowRegisters.SlotOf(Register.RAX)!.Value.Offset;
    private readonly ulong _resultBit = 1UL << ShadowRegisters.DirtyBit(Register.RAX);

    /// <summary>The result register's shadow slot and dirty bit (the native fast path defines it too).</summary>
    public int ResultSlot => _resultSlot;
    public ulong ResultBit => _resultBit;

    /// <summary>Reports <paramref name="symbol"/>'s undefined arguments (<paramref name="arguments"/>: their dirty bits, <see cref="ArgumentMask"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Check(ContextBlock* c, ulong arguments, string symbol)
    {
        if ((MemcheckSlots.At<ulong>(c, MemcheckSlots.Dirty) & arguments) != 0) checks()?.CheckArguments(c, symbol);
    }

    /// <summary>What <see cref="DefinednessChecks.DefineResult"/> does, without looking the register up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void DefineResult(ContextBlock* c)
    {
        MemcheckSlots.At<ulong>(c, _resultSlot) = 0;
        MemcheckSlots.At<ulong>(c, MemcheckSlots.Dirty) &= ~_resultBit;
    }

    /// <summary>The dirty bits of the registers holding <paramref name="symbol"/>'s checked parameters.</summary>
    public static ulong ArgumentMask(string symbol)
    {
        if (HeapFunctionParameters.Of(symbol) is not var (_, parameters)) return 0;
        ulong mask = 0;
        for (int i = 0; i < parameters.Length && i < ArgumentRegisters.Length; i++) mask |= 1UL << ShadowRegisters.DirtyBit(ArgumentRegisters[i]);
        return mask;
    }
}
