using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Engine.State;
using Checker.Engine.Syscalls.Parameters;
using Checker.MemcheckTool.State;
using Checker.Shadow;

namespace Checker.MemcheckTool.Definedness;

/// <summary>
/// System calls as a Valgrind tool sees them, from the engine's table of what each call reads and
/// writes (<see cref="SyscallTable"/>): before the call, its argument registers must be defined,
/// the memory the kernel reads must be addressable and defined and the memory it writes
/// addressable; after it, what the kernel wrote is defined, and so are the registers it returns.
/// </summary>
internal sealed unsafe class SyscallChecks(MemoryDefinedness memory, ShadowMemory shadow, GuestMappings mappings,
    UseReport uninitialized, ParameterReport unaddressable, Origins? origins = null)
{
    private static readonly string[] ArgumentRegisters = ["rdi", "rsi", "rdx", "r10", "r8", "r9"];
    private static readonly int[] ArgumentIndexes = [7, 6, 2, 10, 8, 9];

    private sealed class Reader : IGuestMemoryReader
    {
        public bool TryRead(ulong address, Span<byte> into) => GuestMemory.TryRead(address, into);
    }

    private static readonly Reader GuestReader = new();
    [ThreadStatic] private static List<SyscallMemoryRange>? _before;

    public void Before(ContextBlock* c, long number, ulong pc)
    {
        List<SyscallMemoryRange> ranges = _before ??= [];
        ranges.Clear();
        if (SyscallTable.Find(number) is not { } syscall) return;
        Span<ulong> args = stackalloc ulong[6];
        for (int i = 0; i < 6; i++) args[i] = c->Gpr[ArgumentIndexes[i]];
        int used = syscall.ArgumentsUsed(args);
        for (int i = 0; i < used; i++)
        {
            var register = (Iced.Intel.Register)((int)Iced.Intel.Register.RAX + ArgumentIndexes[i]);
            var read = syscall.IsThirtyTwoBit(i) ? (Iced.Intel.Register)((int)Iced.Intel.Register.EAX + ArgumentIndexes[i]) : register;
            if (!ShadowRegisters.IsUndefined(c, read)) continue;
            uninitialized(c, pc, $"{syscall.Name} parameter {syscall.Arguments[i]} ({ArgumentRegisters[i]}) is undefined", UninitializedUse.Syscall(syscall.Name, syscall.Arguments[i]), origins?.OfRegister(register) ?? 0);
            ShadowRegisters.Define(c, register);
        }
        SyscallTable.Before(number, args, GuestReader, ranges);
        foreach (SyscallMemoryRange range in ranges)
        {
            if (range.Length == 0) continue;
            (string call, string parameter) = Split(range.Parameter);
            if (FirstUnaddressable(c, range.Address, range.Length) is ulong bad)
            {
                unaddressable(c, pc, $"{call} parameter {parameter} points to unaddressable memory at 0x{bad:x}" +
                    (bad != range.Address ? $" ({bad - range.Address} bytes into {range.Length} at 0x{range.Address:x})" : range.Length > 1 ? $" ({range.Length} bytes)" : ""),
                    bad, range.Length - (bad - range.Address), $"{call}({parameter})");
                continue;
            }
            if (range.Access != KernelAccess.Reads || memory.UndefinedSpan(range.Address, range.Length) is not { } span) continue;
            ulong first = span.First - range.Address, last = span.Last - range.Address;
            uninitialized(c, pc, $"{call} parameter {parameter}[{first}..{last}] is undefined ({span.Count} of its {range.Length} bytes at 0x{range.Address:x})",
                UninitializedUse.Syscall(call, parameter) with { Address = span.First }, origins?.OfMemory(span.First) ?? 0);
            // Reported once: the kernel is about to read them anyway.
            memory.Define(range.Address, range.Length);
        }
    }

    public void After(ContextBlock* c, long number, long result)
    {
        ShadowRegisters.Define(c, Iced.Intel.Register.RAX);
        ShadowRegisters.Define(c, Iced.Intel.Register.RCX);
        ShadowRegisters.Define(c, Iced.Intel.Register.R11);
        if (SyscallTable.Find(number) is null) return;
        Span<ulong> args = stackalloc ulong[6];
        for (int i = 0; i < 6; i++) args[i] = c->Gpr[ArgumentIndexes[i]];
        var written = new List<SyscallMemoryRange>();
        SyscallTable.After(number, args, result, GuestReader, _before ?? [], written);
        foreach (SyscallMemoryRange range in written)
            if (range.Length > 0 && range.Address < ShadowMemory.AddressLimit) memory.Define(range.Address, Math.Min(range.Length, ShadowMemory.AddressLimit - range.Address));
    }

    /// <summary>"writev(vector[2])" as ("writev", "vector[2]").</summary>
    private static (string Call, string Parameter) Split(string name)
    {
        int open = name.IndexOf('(');
        return open > 0 && name.EndsWith(')') ? (name[..open], name[(open + 1)..^1]) : (name, name);
    }

    /// <summary>The first byte of the range the program may not touch: unmapped (a NULL pointer), or unaddressable in the shadow (freed, a redzone).</summary>
    private ulong? FirstUnaddressable(ContextBlock* c, ulong address, ulong length)
    {
        // The live stack (from the red zone up) is addressable, even where the shadow lags behind pushes and calls.
        ulong liveFrom = c->Rsp - Instrumentation.StackTracking.RedZone;
        ulong stackTop = MemcheckSlots.At<ulong>(c, MemcheckSlots.StackTop);
        ulong end = address + length < address ? ulong.MaxValue : address + length;
        for (ulong page = address & ~4095UL; page < end; page += 4096)
        {
            if (mappings.ProtectionAt(page) is null) return Math.Max(page, address);
            if (page + 4096 < page) break;
        }
        ulong limit = Math.Min(end, ShadowMemory.AddressLimit);
        ulong a = address;
        while (a < limit && shadow.FirstNot(a, limit - a, ShadowState.Defined) is { } found)
        {
            if (found.State == ShadowState.Unaddressable && !(found.Address >= liveFrom && found.Address < stackTop)) return found.Address;
            ulong runEnd = shadow.FirstNot(found.Address, limit - found.Address, found.State) is { } other ? other.Address : limit;
            a = runEnd;
        }
        return null;
    }
}

/// <summary>Reports memory a system call would touch that the program may not: <paramref name="size"/> bytes from <paramref name="address"/>.</summary>
internal unsafe delegate void ParameterReport(ContextBlock* context, ulong pc, string what, ulong address, ulong size, string parameter);
