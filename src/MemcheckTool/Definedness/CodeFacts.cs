using Iced.Intel;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// What the propagation needs to know about an instruction's <see cref="Code"/> beyond the decoded
/// instruction, without Iced's <c>Code.ToOpCode()</c>: its first call builds an <c>OpCodeInfo</c> for
/// every code, formatting each one's opcode and instruction strings (~5 ms and 1.2 MB kept, paid by
/// any run with one propagation exit). Checked against <c>ToOpCode()</c> for every code the decoder
/// gives in 64-bit mode (Checker.Tests' CodeFactsTests).
/// </summary>
internal static class CodeFacts
{
    /// <summary>Whether the instruction is a NOP (<c>OpCodeInfo.IsNop</c>: the nop forms and the reserved-NOP hints).</summary>
    public static bool IsNop(in Instruction ins) => ins.Mnemonic is Mnemonic.Nop or Mnemonic.Reservednop;

    /// <summary>
    /// The size of the code's memory operand as a register form sees it too (<c>OpCodeInfo.MemorySize</c>):
    /// Iced's instruction gives it by code, the broadcast form's element type aside.
    /// </summary>
    public static MemorySize MemorySize(in Instruction ins)
    {
        Instruction whole = ins;
        whole.IsBroadcast = false;
        return whole.MemorySize;
    }
}
