using System.Runtime.CompilerServices;
using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// Iced's encodings of the instrumentation's instructions, by form, copied instead of encoded again.
/// A form is the instruction with its immediate zeroed and its displacement reduced to what decides
/// the displacement's width (zero, fits a signed byte, fits 32 bits): every instruction of one form
/// encodes to the same bytes except the displacement and immediate fields, whose places Iced
/// reports (<see cref="ConstantOffsets"/>) and which are patched with the instruction's own values.
/// Only forms whose bytes cannot depend on where they are placed are kept: no RIP-relative
/// operand, no branch, no 64-bit immediate or displacement, 64-bit addressing, legacy or VEX
/// encoding (EVEX compresses displacements by the operand size). The table is direct-mapped
/// (a collision encodes again and replaces), so its size is fixed.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
internal sealed class EncodedForms
{
    private const int SlotBits = 12;

    private struct Slot
    {
        public Key Form;
        public ulong Low, High;
        // Length 0: an empty slot.
        public byte Length, DisplacementOffset, DisplacementSize, ImmediateOffset, ImmediateSize;
    }

    /// <summary>An instruction's 40 bytes as words, compared and hashed whole.</summary>
    private struct Key
    {
        public ulong A, B, C, D, E;
        public readonly bool SameAs(in Key other) => A == other.A && B == other.B && C == other.C && D == other.D && E == other.E;
        public readonly int Hash()
        {
            ulong h = (A ^ B ^ C) * 0x9E3779B97F4A7C15 + D * 0xC2B2AE3D27D4EB4F + E;
            h *= 0x94D049BB133111EB;
            return (int)(h >> (64 - SlotBits));
        }
    }

    // In 1,024-slot parts (64 KB each): one 256 KB table (one per thread) was a large object, and
    // large-object allocations count towards full collections.
    private const int PartBits = 10;
    private readonly Slot[][] _parts = MakeParts();

    private static Slot[][] MakeParts()
    {
        var parts = new Slot[1 << (SlotBits - PartBits)][];
        for (int i = 0; i < parts.Length; i++) parts[i] = new Slot[1 << PartBits];
        return parts;
    }

    private ref Slot SlotOf(int hash) => ref _parts[hash >> PartBits][hash & ((1 << PartBits) - 1)];

    // Iced's Instruction as words: nextRip, memDispl, flags1 | immediate << 32, code and registers,
    // operand kinds | scale | displSize | len << 48 | pad. Checked once against Iced's own setters;
    // another layout (a new Iced) turns the copies off rather than copy wrong bytes.
    private static readonly bool LayoutKnown = CheckLayout();

    private static bool CheckLayout()
    {
        if (Unsafe.SizeOf<Instruction>() != Unsafe.SizeOf<Key>()) return false;
        Instruction probe = Instruction.Create(Code.Mov_rm32_imm32, new MemoryOperand(Register.RAX, 0x11223344), 0x55667788);
        probe.Length = 7;
        probe.IP = 0x1000;
        Key words = Unsafe.As<Instruction, Key>(ref probe);
        Instruction canonical = probe;
        canonical.Length = 0;
        canonical.IP = 0;
        canonical.Immediate32 = 0;
        canonical.MemoryDisplacement64 = 0x1000;
        Key expected = Unsafe.As<Instruction, Key>(ref canonical);
        return words.A == 0x1007 && words.B == 0x11223344 && words.C >> 32 == 0x55667788 && (words.E >> 48 & 0xff) == 7
            && FormOf(probe).SameAs(expected);
    }

    /// <summary>
    /// The instruction's form: no address, no immediate, the displacement reduced to its width's
    /// class (values beyond 32 bits stay whole, so such instructions are never one form). Cheap, and
    /// for any instruction: whether a form may be kept is decided once, when it is remembered, and an
    /// instruction of the same form shares every field that decision read. Computed on the words
    /// (setting the fields of a copy and reading it back as words stalled on store forwarding).
    /// </summary>
    private static Key FormOf(in Instruction instruction)
    {
        Key form = Unsafe.As<Instruction, Key>(ref Unsafe.AsRef(in instruction));
        form.A = 0;
        long displacement = (long)form.B;
        if (displacement is >= int.MinValue and <= int.MaxValue)
            form.B = displacement == 0 ? 0UL : displacement is >= sbyte.MinValue and <= sbyte.MaxValue ? 0x10UL : 0x1000UL;
        form.C &= 0xffff_ffff;
        form.E &= ~(0xffUL << 48);
        return form;
    }

    /// <summary>Whether an instruction's bytes depend only on its form, displacement and immediate.</summary>
    private static bool Keepable(in Instruction instruction)
    {
        if (instruction.Encoding is not (EncodingKind.Legacy or EncodingKind.VEX) || instruction.Code == Code.INVALID) return false;
        bool memory = false;
        for (int i = 0; i < instruction.OpCount; i++)
        {
            switch (instruction.GetOpKind(i))
            {
                case OpKind.Register:
                case OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32
                    or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64:
                    continue;
                case OpKind.Memory:
                    memory = true;
                    continue;
                default:
                    return false;
            }
        }
        long displacement = (long)instruction.MemoryDisplacement64;
        if (!memory) return displacement == 0;
        Register b = instruction.MemoryBase, x = instruction.MemoryIndex;
        return b is not (Register.RIP or Register.EIP) && (b == Register.None || b.IsGPR64()) && (x == Register.None || x.IsGPR64())
            && displacement is >= int.MinValue and <= int.MaxValue;
    }

    /// <summary>Writes <paramref name="instruction"/>'s bytes to <paramref name="output"/> (16 bytes of room) from its form's; false when its form is not known (or not kept).</summary>
    public bool TryCopy(in Instruction instruction, Span<byte> output, out int length)
    {
        if (!LayoutKnown)
        {
            length = 0;
            return false;
        }
        Key form = FormOf(instruction);
        ref Slot slot = ref SlotOf(form.Hash());
        if (!slot.Form.SameAs(form) || slot.Length == 0)
        {
            length = 0;
            return false;
        }
        length = slot.Length;
        Unsafe.WriteUnaligned(ref output[0], slot.Low);
        Unsafe.WriteUnaligned(ref output[8], slot.High);
        if (slot.DisplacementSize == 1) output[slot.DisplacementOffset] = (byte)instruction.MemoryDisplacement64;
        else if (slot.DisplacementSize == 4) Unsafe.WriteUnaligned(ref output[slot.DisplacementOffset], (uint)instruction.MemoryDisplacement64);
        switch (slot.ImmediateSize)
        {
            case 1: output[slot.ImmediateOffset] = (byte)instruction.Immediate32; break;
            case 2: Unsafe.WriteUnaligned(ref output[slot.ImmediateOffset], (ushort)instruction.Immediate32); break;
            case 4: Unsafe.WriteUnaligned(ref output[slot.ImmediateOffset], instruction.Immediate32); break;
        }
        return true;
    }

    /// <summary>Keeps the bytes Iced just encoded for <paramref name="instruction"/> as its form's (when the form is kept).</summary>
    public void Remember(in Instruction instruction, ReadOnlySpan<byte> encoded, in ConstantOffsets offsets)
    {
        if (!LayoutKnown || encoded.Length is 0 or > 16 || !Keepable(instruction)) return;
        Key form = FormOf(instruction);
        bool hasImmediate = false;
        for (int i = 0; i < instruction.OpCount; i++)
            if (instruction.GetOpKind(i) is not (OpKind.Register or OpKind.Memory)) hasImmediate = true;
        // An immediate field that is no operand (an is4 register) is part of the form; an immediate
        // operand must have its field, and a displacement its 1 or 4 bytes.
        if (hasImmediate != offsets.HasImmediate || offsets.HasImmediate2 || offsets.ImmediateSize is not (0 or 1 or 2 or 4)
            || offsets.DisplacementSize is not (0 or 1 or 4))
            return;
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        encoded.CopyTo(bytes);
        ref Slot slot = ref SlotOf(form.Hash());
        slot = new Slot
        {
            Form = form,
            Low = BitConverter.ToUInt64(bytes),
            High = BitConverter.ToUInt64(bytes[8..]),
            Length = (byte)encoded.Length,
            DisplacementOffset = offsets.DisplacementOffset,
            DisplacementSize = offsets.DisplacementSize,
            ImmediateOffset = hasImmediate ? offsets.ImmediateOffset : (byte)0,
            ImmediateSize = hasImmediate ? offsets.ImmediateSize : (byte)0,
        };
    }
}
