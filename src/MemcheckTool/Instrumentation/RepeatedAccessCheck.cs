using Checker.Engine.Emission;
using Checker.Engine.State;
using Checker.MemcheckTool.State;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Checker.MemcheckTool.Instrumentation;

/// <summary>
/// The front of a rep movs/stos/lods site's stub: its range, rcx elements upwards from the pointer,
/// is taken a shadow qword (32 bytes) at a time right here, as <see cref="AccessCheckRoutine"/>'s
/// whole-lane pass would, and the string routine is entered only when that pass could not finish:
/// <code>
///   (three registers borrowed; flags kept through lahf/seto when they are live)
///   lea rsp, [rsp - 128] ; pushfq ; pop y ; lea rsp, [rsp + 128]
///   test y, DF ; jnz slow                         ; backwards: the string routine's business
///   mov x, rcx ; cmp x, max ; ja slow ; mov s, rdi ; lea x, [s + x*element]
///   cmp x, s ; jb slow ; je done ; (x &gt;&gt; 47) != 0: slow
/// loop:
///   y = the lanes of [s, min(x, next 32-byte boundary)) in the shadow qword z = s &gt;&gt; 5
///   and y, gs:[z*8] ; jz next                     ; all defined
///   (a read: slow) test y, high lanes ; jnz slow  ; unaddressable or partly defined: slow
///   (a write-only access of mode-0 code: not y ; and gs:[z*8], y, locked once the program is threaded)
/// next:
///   s = next 32-byte boundary ; cmp s, x ; jb loop
/// done: registers back, jmp resume
/// slow: registers back, scratch reloaded if spilled, then the site's usual hand-over
/// </code>
/// A read that meets undefined lanes, any unaddressable or partly defined lane, the direction flag set,
/// a count past <see cref="MaxBytes"/> or a range beyond user space go to the routine, which starts
/// over and reports byte-exactly at the same pc (lanes defined before that are ones the routine
/// would define on its way too). The bench's alloc entered the string routine 3.5M times from one
/// gcc-inlined memset (rep stosq over a fresh malloc'd payload), ~11-13% of its samples; the stub is
/// ~10%, nearly all of it the wait on the shadow qword's load (the block just left the quarantine, its
/// shadow line is cold: a prefetch ahead only moved that wait into the heap fast path).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class RepeatedAccessCheck
{
    /// <summary>Larger runs go to the routine (its loop is the same; this only bounds the end's arithmetic).</summary>
    public const long MaxBytes = 1L << 30;

    private const int DirectionFlag = 1 << 10;

    /// <summary>Whether <see cref="Emit"/> applies: a rep movs/stos/lods through a 64-bit pointer register, unmasked.</summary>
    public static bool Applies(AccessSite site)
    {
        CheckedAccess access = site.Access;
        return access.Extent == AccessExtent.RepeatCount && access.OpMask == Register.None && site.Parts == null && !site.Vsib
            && access.Base.IsGPR64() && access.Index == Register.None && access.Displacement == 0 && access.Size is 1 or 2 or 4 or 8;
    }

    // Besides the scratch: never rcx, rsi or rdi (the count and the pointers are read first), rax first (lahf).
    private static readonly Register[] Candidates = [Register.RAX, Register.RDX, Register.R8, Register.R9, Register.R10];

    /// <summary>
    /// Emits the fast path of <paramref name="access"/> (see <see cref="Applies"/>) with check kind
    /// <paramref name="kind"/> (<see cref="CheckKinds"/>); falls through to what follows (the routine's
    /// set-up) when it cannot decide, with every register but the scratch holding the guest's value
    /// again and the scratch reloaded if it was spilled (the set-up stores the guest's rcx).
    /// </summary>
    public static void Emit(CodeBuffer code, CheckedAccess access, Register scratch, bool spilled, bool flagsDead, int kind, ulong resume)
    {
        // A copy of the shape's first assembly with its jump back patched, unless that jump could be
        // short here (the assembler would have picked the 2-byte form, and a different layout).
        int key = (scratch - Register.RAX) | (access.Base - Register.RAX) << 4 | System.Numerics.BitOperations.Log2((uint)access.Size) << 8
            | ((kind & CheckKinds.Reads) != 0 ? 1 << 10 : 0) | ((kind & CheckKinds.Writes) != 0 ? 1 << 11 : 0) | (spilled ? 1 << 12 : 0) | (flagsDead ? 1 << 13 : 0);
        Dictionary<int, (CodeTemplate? Template, int JumpEnd)> templates = t_templates ??= [];
        if (!templates.TryGetValue(key, out var known))
            templates[key] = known = RecordTemplate(code.CurrentAddress, access, scratch, spilled, flagsDead, kind);
        if (known.Template is { } template && resume < code.CurrentAddress && code.CurrentAddress + (ulong)known.JumpEnd - resume > FarEnough)
        {
            template.CopyTo(code, [resume]);
            return;
        }
        code.Raw(Assemble(access, scratch, spilled, flagsDead, kind, code.CurrentAddress, resume));
    }

    // Iced's assembler per rep movs/stos/lods stub (a BlockEncoder, its lists and label tables) was
    // ~1-2% of checked translation on cc1plus for a few hundred stubs. By shape (scratch, pointer,
    // element size, kind, spill, flags), per thread.
    [ThreadStatic] private static Dictionary<int, (CodeTemplate? Template, int JumpEnd)>? t_templates;

    // Distances back to the resume point at which the jump is surely rel32 (a rel8 reaches 128).
    private const ulong FarEnough = 256;

    /// <summary>
    /// The shape's template: assembled twice at <paramref name="at"/> with two far resume points; the
    /// 4 bytes that differ, right after an E9, are the jump's rel32 (null when the two differ otherwise).
    /// </summary>
    private static (CodeTemplate?, int) RecordTemplate(ulong at, CheckedAccess access, Register scratch, bool spilled, bool flagsDead, int kind)
    {
        byte[] first = Assemble(access, scratch, spilled, flagsDead, kind, at, at - 0x10001);
        byte[] second = Assemble(access, scratch, spilled, flagsDead, kind, at, at - 0x20002);
        int field = first.AsSpan().CommonPrefixLength(second);
        if (first.Length != second.Length || field < 1 || field + 4 > first.Length || first[field - 1] != 0xE9
            || !first.AsSpan(field + 4).SequenceEqual(second.AsSpan(field + 4)))
            return (null, 0);
        return (CodeTemplate.Record(at, (c, fields) =>
        {
            c.Raw(first.AsSpan(0, field + 4));
            fields.Relative(0);
            c.Raw(first.AsSpan(field + 4));
        }), field + 4);
    }

    private static byte[] Assemble(CheckedAccess access, Register scratch, bool spilled, bool flagsDead, int kind, ulong at, ulong resume)
    {
        Span<Register> borrowed = stackalloc Register[3];
        int n = 0;
        foreach (Register candidate in Candidates)
            if (candidate != scratch && n < 3) borrowed[n++] = candidate;
        // With live flags the scratch is the spilled rcx, so rax is borrowed first, for lahf/seto.
        if (!flagsDead && borrowed[0] != Register.RAX) throw new InvalidOperationException("live flags need rax borrowed");
        var s = new AssemblerRegister64(scratch);
        var x = new AssemblerRegister64(borrowed[0]);
        var y = new AssemblerRegister64(borrowed[1]);
        var z = new AssemblerRegister64(borrowed[2]);
        var y32 = new AssemblerRegister32(Register.EAX + (borrowed[1] - Register.RAX));
        var z32 = new AssemblerRegister32(Register.EAX + (borrowed[2] - Register.RAX));
        // The string routine's and the exact lane test's slots: neither runs while this does.
        int[] slots = [MemcheckSlots.StringSaveRax, MemcheckSlots.StringSaveRdx, MemcheckSlots.StubSaveRegister];

        var a = new Assembler(64);
        Label loop = a.CreateLabel(), next = a.CreateLabel(), done = a.CreateLabel(), slow = a.CreateLabel(), whole = a.CreateLabel();
        Label allOnes = a.CreateLabel(), highLanes = a.CreateLabel();
        for (int i = 0; i < 3; i++) a.mov(Slot(slots[i]), new AssemblerRegister64(borrowed[i]));
        if (!flagsDead)
        {
            a.lahf();
            a.seto(al);
            a.mov(Slot(MemcheckSlots.StringSaveFlags), rax);
        }
        // DF (lahf does not carry it), read below the guest's red zone as the string routine does.
        a.lea(rsp, __[rsp - (int)StackTracking.RedZone]);
        a.pushfq();
        a.pop(y);
        a.lea(rsp, __[rsp + (int)StackTracking.RedZone]);
        a.test(y32, DirectionFlag);
        a.jnz(slow);
        a.mov(x, rcx);
        a.cmp(x, (int)(MaxBytes / access.Size));
        a.ja(slow);
        a.mov(s, new AssemblerRegister64(access.Base));
        a.lea(x, __[s + x * access.Size]);
        a.cmp(x, s);
        a.jb(slow);                          // wrapped past 2^64
        a.je(done);                          // rcx = 0: nothing touched
        a.mov(y, x);
        a.shr(y, 47);
        a.jnz(slow);                         // past user space: the routine lets the access fault natively

        a.Label(ref loop);
        // The lanes of [s, min(x, s's next 32-byte boundary)) within the shadow qword of s.
        a.mov(z, s);
        a.and(z32, 31);
        a.mov(y, x);
        a.sub(y, s);
        a.add(y, z);
        a.cmp(y, 32);
        a.jbe(whole);
        a.mov(y32, 32);
        a.Label(ref whole);
        a.add(y32, y32);
        a.add(z32, z32);
        a.bzhi(y, __qword_ptr[allOnes], y);
        a.shrx(y, y, z);
        a.shlx(y, y, z);
        a.mov(z, s);
        a.shr(z, 5);
        a.and(y, __qword_ptr.gs[z * 8]);
        a.jz(next);                          // these lanes are defined already
        if ((kind & CheckKinds.Reads) != 0)
        {
            a.jmp(slow);                     // an undefined read: the routine decides (mode switch or pending bit)
        }
        else
        {
            a.test(__qword_ptr[highLanes], y);
            a.jnz(slow);                     // unaddressable (reported by the routine) or partly defined
            if ((kind & CheckKinds.Writes) != 0)
            {
                // Undefined lanes a mode-0 store writes become defined; once the program has a second
                // thread, another store may share the word: locked, as the routine does.
                Label locked = a.CreateLabel();
                a.not(y);
                a.cmp(__dword_ptr.fs[MemcheckSlots.ProgramThreaded + ContextTls.Offset], 0);
                a.jne(locked);
                a.and(__qword_ptr.gs[z * 8], y);
                a.jmp(next);
                a.Label(ref locked);
                a.@lock.and(__qword_ptr.gs[z * 8], y);
            }
        }
        a.Label(ref next);
        a.or(s, 31);
        a.add(s, 1);
        a.cmp(s, x);
        a.jb(loop);

        a.Label(ref done);
        Restore(a, borrowed, slots, flagsDead);
        a.jmp(resume);
        a.Label(ref allOnes);
        a.dq(ulong.MaxValue);
        a.Label(ref highLanes);
        a.dq(0xaaaa_aaaa_aaaa_aaaaUL);

        a.Label(ref slow);
        Restore(a, borrowed, slots, flagsDead);
        if (spilled) a.mov(s, Slot(MemcheckSlots.CheckSaveRcx));

        var writer = new ListCodeWriter();
        a.Assemble(writer, at);
        return [.. writer.Bytes];
    }

    private static void Restore(Assembler a, ReadOnlySpan<Register> borrowed, int[] slots, bool flagsDead)
    {
        if (!flagsDead)
        {
            a.mov(rax, Slot(MemcheckSlots.StringSaveFlags));
            a.add(al, 0x7f);   // OF again iff seto stored 1
            a.sahf();
        }
        for (int i = 2; i >= 0; i--) a.mov(new AssemblerRegister64(borrowed[i]), Slot(slots[i]));
    }

    private static AssemblerMemoryOperand Slot(int offset) => __qword_ptr.fs[offset + ContextTls.Offset];
}
