using Checker.MemcheckTool.State;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// What a shared slow-path routine (jump-and-link, on the guest's stack) saves and restores: rax,
/// rcx, rdx, r8, r9 in context-block slots and the status flags through lahf/seto (never pushf:
/// the SysV red zone below rsp may hold live data).
/// </summary>
internal static class SlowPathRegisters
{
    public static void Save(Assembler a)
    {
        SaveRaxAndFlags(a, MemcheckSlots.CheckSaveRax, MemcheckSlots.CheckSaveFlags);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSaveRdx + ContextTls.Offset], rdx);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSaveR8 + ContextTls.Offset], r8);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSaveR9 + ContextTls.Offset], r9);
        a.mov(__qword_ptr.fs[MemcheckSlots.RoutineSaveRcx + ContextTls.Offset], rcx);
    }

    public static void Restore(Assembler a)
    {
        a.mov(rcx, __qword_ptr.fs[MemcheckSlots.RoutineSaveRcx + ContextTls.Offset]);
        a.mov(r9, __qword_ptr.fs[MemcheckSlots.CheckSaveR9 + ContextTls.Offset]);
        a.mov(r8, __qword_ptr.fs[MemcheckSlots.CheckSaveR8 + ContextTls.Offset]);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.CheckSaveRdx + ContextTls.Offset]);
        RestoreFlagsAndRax(a, MemcheckSlots.CheckSaveRax, MemcheckSlots.CheckSaveFlags);
    }

    /// <summary>rax, then the status flags through lahf/seto (in rax), to the two slots.</summary>
    public static void SaveRaxAndFlags(Assembler a, int raxSlot, int flagsSlot)
    {
        a.mov(__qword_ptr.fs[raxSlot + ContextTls.Offset], rax);
        a.lahf();
        a.seto(al);
        a.mov(__qword_ptr.fs[flagsSlot + ContextTls.Offset], rax);
    }

    /// <summary>The flags <see cref="SaveRaxAndFlags"/> kept (sahf, and OF by an overflowing add), then rax.</summary>
    public static void RestoreFlagsAndRax(Assembler a, int raxSlot, int flagsSlot)
    {
        a.mov(rax, __qword_ptr.fs[flagsSlot + ContextTls.Offset]);
        a.add(al, 0x7f);   // OF again iff seto stored 1
        a.sahf();
        a.mov(rax, __qword_ptr.fs[raxSlot + ContextTls.Offset]);
    }
}
