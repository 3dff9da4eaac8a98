using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// The propagating mode's way out to C#: reached by jump-and-link from before an instruction with
/// its site in gs:[PropagateSite], it leaves the cache (every register and the vector state saved
/// by the exit) with <see cref="ToolExitReasons.Propagate"/>; the dispatcher resumes at gs:[LinkReturn].
/// </summary>
[SupportedOSPlatform("linux")]
internal static class PropagationRoutine
{
    public static ulong Generate(CodeRegion region, ulong exit)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel();
        a.Label(ref entry);
        a.mov(__dword_ptr.fs[MemcheckSlots.ToolExitReason + ContextTls.Offset], ToolExitReasons.Propagate);
        a.mov(__dword_ptr.fs[ContextOffsets.ExitId + ContextTls.Offset], ExitIds.ToolExit);
        a.jmp(exit);
        return GeneratedRoutine.Place(a, region, 0x40, entry, "the propagation exit");
    }

    /// <summary>Before an instruction of the propagating mode: <c>mov dword gs:[PropagateSite], site</c>, then jump-and-link (no flag touched).</summary>
    public static void EmitCall(CodeBuffer code, int site, ulong routine)
    {
        code.Encode(Instruction.Create(Code.Mov_rm32_imm32, ContextOperand.Slot(MemcheckSlots.PropagateSite), site));
        JumpAndLink.Emit(code, routine);
    }
}
