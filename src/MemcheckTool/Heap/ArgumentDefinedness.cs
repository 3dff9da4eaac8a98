using Checker.Engine.Interception;
using Checker.Engine.State;
using Checker.MemcheckTool.Definedness;
using Checker.MemcheckTool.State;
using Iced.Intel;

namespace Checker.MemcheckTool.Heap;

/// <summary>
/// A replaced function under definedness checking: its undefined arguments are reported (the
/// handler is C#, which no propagation sees) and its result is defined (computed from arguments
/// taken as defined). Every malloc and free passes here, so the common case is a test of the
/// register shadows' dirty bits (<see cref="MemcheckSlots.Dirty"/>): while the argument registers'
/// bits are clear their shadows are all defined, and nothing else needs to be read.
/// </summary>
internal static unsafe class ArgumentDefinedness
{
    // The registers of a replaced function's parameters, as DefinednessChecks.CheckArguments reads them.
    private static readonly Register[] ArgumentRegisters = [Register.RDI, Register.RSI, Register.RDX];

    private static readonly int ResultSlot = ShadowRegisters.SlotOf(Register.RAX)!.Value.Offset;
    private static readonly ulong ResultBit = 1UL << ShadowRegisters.DirtyBit(Register.RAX);

    /// <summary><paramref name="function"/> with the checks around it; <paramref name="checks"/> is read at each call (it is set after the functions are).</summary>
    public static InterceptedFunction Wrap(InterceptedFunction function, Func<DefinednessChecks?> checks)
    {
        ulong arguments = ArgumentMask(function.Name);
        string name = function.Name;
        InterceptHandler handler = function.Handler;
        return function with
        {
            Handler = c =>
            {
                if ((MemcheckSlots.At<ulong>(c, MemcheckSlots.Dirty) & arguments) != 0) checks()?.CheckArguments(c, name);
                ulong result = handler(c);
                DefineResult(c);
                return result;
            },
        };
    }

    /// <summary>What <see cref="DefinednessChecks.DefineResult"/> does, without looking the register up.</summary>
    private static void DefineResult(ContextBlock* c)
    {
        MemcheckSlots.At<ulong>(c, ResultSlot) = 0;
        MemcheckSlots.At<ulong>(c, MemcheckSlots.Dirty) &= ~ResultBit;
    }

    /// <summary>The dirty bits of the registers holding <paramref name="symbol"/>'s checked parameters.</summary>
    private static ulong ArgumentMask(string symbol)
    {
        if (HeapFunctionParameters.Of(symbol) is not var (_, parameters)) return 0;
        ulong mask = 0;
        for (int i = 0; i < parameters.Length && i < ArgumentRegisters.Length; i++) mask |= 1UL << ShadowRegisters.DirtyBit(ArgumentRegisters[i]);
        return mask;
    }
}
