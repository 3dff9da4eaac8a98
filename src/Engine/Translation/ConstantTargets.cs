using Checker.Engine.Memory;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>
/// The target of an indirect jmp or call through a slot the guest cannot change without telling the
/// engine: a PLT stub's <c>jmp [rip+GOT]</c> (or -fno-plt's <c>call [rip+GOT]</c>) once ld.so has
/// bound the GOT and made it read-only (RELRO with BIND_NOW, the default of Debian's and most
/// distributions' packages). Such a branch becomes a direct exit to the value the slot holds, linked
/// like any other: no lookup (sqlite spent 16% of its `--tool none` samples in its PLT stubs'
/// lookups). The slot's page must stay read-only for the translation to hold: the cache keeps the
/// fragment by that page (<see cref="CodeCache.TranslationCache.AddSlotReader"/>), and every change
/// of the page's mapping (mprotect making it writable, munmap, mremap, MAP_FIXED) flushes it. A slot
/// in writable memory (lazy binding's .got.plt, a vtable being built) keeps the lookup.
/// </summary>
internal static class ConstantTargets
{
    /// <summary>The slot and the target it holds now, when <paramref name="ins"/> (jmp/call r/m64) reads a read-only one.</summary>
    public static bool TryGet(in Instruction ins, GuestMappings? mappings, ModuleMap? modules, out ulong slot, out ulong target)
    {
        slot = target = 0;
        if (mappings == null || modules == null || ins.Op0Kind != OpKind.Memory || ins.SegmentPrefix is Register.FS or Register.GS) return false;
        if (ins.IsIPRelativeMemoryOperand) slot = ins.IPRelativeMemoryAddress;
        else if (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None) slot = ins.MemoryDisplacement64;
        else return false;
        // The branch and its slot in one ELF module's image (a PLT and its GOT): a read-only view of
        // memory that is writable elsewhere (a JIT's double-mapped code and data) is never an image.
        if (modules.Find(ins.IP) is not { } module || modules.Find(slot) != module) return false;
        // Both ends: a slot across a page boundary depends on two pages' protections.
        if (!ReadOnly(mappings, slot) || !ReadOnly(mappings, slot + 7)) return false;
        // A canonical user address; whether code is mapped there is the target's translation's business.
        return Native.GuestMemory.TryReadUInt64(slot, out target) && target != 0 && target < 1UL << 47;
    }

    private static bool ReadOnly(GuestMappings mappings, ulong address) =>
        mappings.ProtectionAt(address) is int prot && (prot & GuestMappings.Read) != 0 && (prot & GuestMappings.Write) == 0;
}
