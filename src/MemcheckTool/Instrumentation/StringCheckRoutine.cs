using Checker.MemcheckTool.State;
using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Emission;
using Checker.Engine.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The front of the access check for string instructions (jump-and-link, like
/// <see cref="AccessCheckRoutine"/>, which it continues into): the range is
/// (StringCountBefore - StringCountAfter) elements of CheckStringElement bytes from CheckAddress,
/// upwards, or, with the direction flag set, downwards ending with the element at CheckAddress.
/// DF is read with pushfq below the red zone (the ABI lets anything clobber memory there), since
/// lahf does not carry it. Registers and flags come back as they were.
/// </summary>
[SupportedOSPlatform("linux")]
public static class StringCheckRoutine
{
    private const int DirectionFlagBit = 10;

    public static ulong Generate(CodeRegion region, ulong accessCheck)
    {
        var a = new Assembler(64);
        Label entry = a.CreateLabel(), upwards = a.CreateLabel();

        a.Label(ref entry);
        SlowPathRegisters.SaveRaxAndFlags(a, MemcheckSlots.StringSaveRax, MemcheckSlots.StringSaveFlags);
        a.mov(__qword_ptr.fs[MemcheckSlots.StringSaveRdx + ContextTls.Offset], rdx);

        a.mov(rax, __qword_ptr.fs[MemcheckSlots.StringCountBefore + ContextTls.Offset]);
        a.sub(rax, __qword_ptr.fs[MemcheckSlots.StringCountAfter + ContextTls.Offset]);
        a.mov(edx, __dword_ptr.fs[MemcheckSlots.CheckStringElement + ContextTls.Offset]);
        a.imul(rax, rdx);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckSize + ContextTls.Offset], rax);
        // Arithmetic above left DF alone.
        a.lea(rsp, __[rsp - (int)StackTracking.RedZone]);
        a.pushfq();
        a.pop(rdx);
        a.lea(rsp, __[rsp + (int)StackTracking.RedZone]);
        a.bt(edx, DirectionFlagBit);
        a.jnc(upwards);
        // Backwards: [address + element - size, address + element).
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.CheckAddress + ContextTls.Offset]);
        a.sub(rdx, rax);
        a.mov(eax, __dword_ptr.fs[MemcheckSlots.CheckStringElement + ContextTls.Offset]);
        a.add(rdx, rax);
        a.mov(__qword_ptr.fs[MemcheckSlots.CheckAddress + ContextTls.Offset], rdx);

        a.Label(ref upwards);
        a.mov(rdx, __qword_ptr.fs[MemcheckSlots.StringSaveRdx + ContextTls.Offset]);
        SlowPathRegisters.RestoreFlagsAndRax(a, MemcheckSlots.StringSaveRax, MemcheckSlots.StringSaveFlags);
        a.jmp(accessCheck);

        return GeneratedRoutine.Place(a, region, 0x100, entry, "the string check routine");
    }
}
