using Checker.Engine.Memory;
using Iced.Intel;

namespace Checker.Engine.Translation;

/// <summary>How an indirect branch's slot may be trusted (<see cref="ConstantTargets.Classify"/>).</summary>
internal enum SlotKind
{
    /// <summary>Not a branch through a slot of its own module: the lookup.</summary>
    None,
    /// <summary>Read-only: its value holds while its page's mapping does.</summary>
    ReadOnly,
    /// <summary>Writable (lazy binding's .got.plt): its value can change without the engine seeing it.</summary>
    Writable,
}

/// <summary>
/// The target of an indirect jmp or call through a slot of its own module, a PLT stub's
/// <c>jmp [rip+GOT]</c> (or -fno-plt's <c>call [rip+GOT]</c>). Once ld.so has bound the GOT and made
/// it read-only (RELRO with BIND_NOW, the default of Debian's and most distributions' packages), such
/// a branch becomes a direct exit to the value the slot holds, linked like any other: no lookup
/// (sqlite spent 16% of its `--tool none` samples in its PLT stubs' lookups). The slot's page must
/// stay read-only for that translation to hold: the cache keeps the fragment by that page
/// (<see cref="CodeCache.TranslationCache.AddSlotReader"/>), and every change of the page's mapping
/// (mprotect making it writable, munmap, mremap, MAP_FIXED) flushes it. A jmp through a writable slot
/// (lazy binding, gcc's default here) compares the slot with the value it had at translation
/// (BlockTranslator's slot branches).
/// </summary>
internal static class ConstantTargets
{
    /// <summary>
    /// The slot <paramref name="ins"/> (jmp/call r/m64) reads and the canonical address it holds now,
    /// when the branch and its slot lie in one ELF module's image.
    /// </summary>
    public static SlotKind Classify(in Instruction ins, GuestMappings? mappings, ModuleMap? modules, out ulong slot, out ulong target)
    {
        slot = target = 0;
        if (mappings == null || modules == null || ins.Op0Kind != OpKind.Memory || ins.SegmentPrefix is Register.FS or Register.GS) return SlotKind.None;
        if (ins.IsIPRelativeMemoryOperand) slot = ins.IPRelativeMemoryAddress;
        else if (ins.MemoryBase == Register.None && ins.MemoryIndex == Register.None) slot = ins.MemoryDisplacement64;
        else return SlotKind.None;
        // The branch and its slot in one ELF module's image (a PLT and its GOT): a read-only view of
        // memory that is writable elsewhere (a JIT's double-mapped code and data) is never an image.
        if (modules.Find(ins.IP) is not { } module || modules.Find(slot) != module) return SlotKind.None;
        // A canonical user address; whether code is mapped there is the target's translation's business.
        if (!Native.GuestMemory.TryReadUInt64(slot, out target) || target == 0 || target >= 1UL << 47) return SlotKind.None;
        // Both ends: a slot across a page boundary depends on two pages' protections.
        int? first = mappings.ProtectionAt(slot), last = mappings.ProtectionAt(slot + 7);
        if (first is not int a || last is not int b || (a & b & GuestMappings.Read) == 0) return SlotKind.None;
        return ((a | b) & GuestMappings.Write) == 0 ? SlotKind.ReadOnly : SlotKind.Writable;
    }

    /// <summary>
    /// Whether a lazily bound PLT stub's slot still points at its way to ld.so's resolver: the
    /// instruction after the stub's jmp (the classic PLT), or a <c>push imm32</c>, with or without
    /// endbr64 before it (the .plt entry an IBT .plt.sec stub's slot points at).
    /// </summary>
    public static bool IsUnbound(in Instruction ins, ulong target)
    {
        if (target == ins.NextIP) return true;
        Span<byte> code = stackalloc byte[5];
        if (!Native.GuestMemory.TryRead(target, code)) return false;
        return code[0] == 0x68 || (code[0] == 0xF3 && code[1] == 0x0F && code[2] == 0x1E && code[3] == 0xFA && code[4] == 0x68);
    }
}
