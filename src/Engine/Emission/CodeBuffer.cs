using Iced.Intel;
using Checker.Engine.State;

namespace Checker.Engine.Emission;

/// <summary>
/// Machine code under construction for a known final address. Guest instructions are copied as raw
/// bytes or re-encoded by Iced at their new address (which retargets RIP-relative operands); exits
/// are rel32 jumps whose displacement fields lie within an aligned quadword so a later link is one atomic store.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]   // frames full of Instruction values: zeroing them cost translation time
public sealed class CodeBuffer
{
    private readonly ByteWriter _writer = new();
    private readonly Encoder _encoder;

    public CodeBuffer(ulong baseAddress)
    {
        BaseAddress = baseAddress;
        _encoder = Encoder.Create(64, _writer);
    }

    public ulong BaseAddress { get; private set; }

    /// <summary>Empties the buffer for code that will live at <paramref name="baseAddress"/>.</summary>
    public void Reset(ulong baseAddress)
    {
        BaseAddress = baseAddress;
        _writer.Truncate(0);
    }
    public int Length => _writer.Length;
    public ulong CurrentAddress => BaseAddress + (ulong)_writer.Length;
    public ReadOnlySpan<byte> Bytes => _writer.Span;

    public void Raw(ReadOnlySpan<byte> bytes) => _writer.Write(bytes);

    public void Byte(byte b) => _writer.WriteByte(b);

    public void Int32(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BitConverter.TryWriteBytes(bytes, value);
        _writer.Write(bytes);
    }

    /// <summary>Encodes at the current address; false when it cannot (a RIP-relative target out of rel32 range).</summary>
    public bool TryEncode(in Instruction instruction, out string? error)
    {
        int mark = _writer.Length;
        if (_encoder.TryEncode(instruction, CurrentAddress, out _, out error)) return true;
        _writer.Truncate(mark);
        return false;
    }

    public void Encode(in Instruction instruction)
    {
        // Most of the instrumentation's instructions repeat a few forms (context-slot moves, the
        // checks' lea/shr/cmp, pext): Iced encodes each form once, its bytes are copied after that.
        EncodedForms forms = t_forms ??= new EncodedForms();
        if (forms.TryCopy(instruction, _writer.Room(16), out int length))
        {
            _writer.Advance(length);
            _copied++;
            return;
        }
        int mark = _writer.Length;
        if (!TryEncode(instruction, out string? error))
            throw new EngineException($"cannot encode '{instruction}': {error}");
        forms.Remember(instruction, _writer.Span[mark..], _encoder.GetConstantOffsets());
    }

    // One table per thread, shared by every buffer (a form's bytes do not depend on the buffer):
    // a 256 KB table per buffer was five per translating thread, each zeroed by the GC on
    // allocation (~4% of /bin/true's samples).
    [ThreadStatic] private static EncodedForms? t_forms;
    private long _copied;

    /// <summary>
    /// <c>mov fs:[context + offset], source</c> (<see cref="ContextOperand.Store"/>) written directly: the
    /// instrumentation's most frequent instruction, with one encoding (gs, REX.W, 89, ModRM/SIB for an
    /// absolute disp32) that Iced gives too (EncodedFormsTests compares them).
    /// </summary>
    public void StoreSlot(int offset, Register source) => SlotMove(0x89, source, offset);

    /// <summary><c>mov destination, fs:[context + offset]</c> (<see cref="ContextOperand.Load"/>) written directly.</summary>
    public void LoadSlot(Register destination, int offset) => SlotMove(0x8B, destination, offset);

    /// <summary>
    /// <c>lea destination, [base + index*scale + displacement]</c> as Iced encodes it with a
    /// displacement size of 0 when it is 0, else 8 (<c>CheckedAccess.Operand</c>), written directly for 64-bit
    /// registers (every access check has one or two); anything else goes to Iced (EncodedFormsTests
    /// compares the two over every register and displacement class).
    /// </summary>
    public void Lea(Register destination, Register @base, Register index, int scale, long displacement)
    {
        bool direct = destination is >= Register.RAX and <= Register.R15
            && (@base == Register.None || @base is >= Register.RAX and <= Register.R15)
            && (index == Register.None || index is >= Register.RAX and <= Register.R15 && index != Register.RSP)
            && scale is 1 or 2 or 4 or 8 && displacement is >= int.MinValue and <= int.MaxValue;
        if (!direct)
        {
            Encode(Instruction.Create(Code.Lea_r64_m, destination,
                new MemoryOperand(@base, index, scale, displacement, displacement == 0 ? 0 : 1, false, Register.None)));
            return;
        }
        int d = destination - Register.RAX, b = @base == Register.None ? -1 : @base - Register.RAX, x = index == Register.None ? -1 : index - Register.RAX;
        Span<byte> bytes = _writer.Room(16);
        int n = 0;
        bytes[n++] = (byte)(0x48 | (d >> 3) << 2 | (x >= 8 ? 2 : 0) | (b >= 8 ? 1 : 0));
        bytes[n++] = 0x8D;
        // mod: no displacement (rbp/r13 as base take a zero disp8: their mod 00 means RIP or disp32),
        // else a disp8 when it fits (3 bytes less per lea: Iced's choice for a displacement size
        // of 1), else a disp32; no base at all is mod 00 with SIB base 101 and a disp32.
        int mod, dispSize;
        if (b < 0) (mod, dispSize) = (0, 4);
        else if (displacement is >= sbyte.MinValue and <= sbyte.MaxValue && displacement != 0) (mod, dispSize) = (1, 1);
        else if (displacement != 0) (mod, dispSize) = (2, 4);
        else if ((b & 7) == 5) (mod, dispSize) = (1, 1);
        else (mod, dispSize) = (0, 0);
        bool sib = x >= 0 || b < 0 || (b & 7) == 4 || scale != 1;   // Iced keeps a scale without an index in a SIB
        bytes[n++] = (byte)(mod << 6 | (d & 7) << 3 | (sib ? 4 : b & 7));
        if (sib)
            bytes[n++] = (byte)(System.Numerics.BitOperations.Log2((uint)scale) << 6 | (x >= 0 ? x & 7 : 4) << 3 | (b >= 0 ? b & 7 : 5));
        if (dispSize == 1) bytes[n++] = (byte)displacement;
        else if (dispSize == 4)
        {
            BitConverter.TryWriteBytes(bytes[n..], (int)displacement);
            n += 4;
        }
        _writer.Advance(n);
    }

    /// <summary>
    /// <c>mov dword fs:[context + offset], value</c> written directly (fs, C7 /0, ModRM/SIB for an absolute
    /// disp32, imm32), as Iced encodes it: the stubs' and hit paths' site and return stores, each
    /// an Iced <c>Instruction.Create</c> with an immediate and a form lookup before.
    /// </summary>
    public void SetSlot32(int offset, int value) => SlotImmediate(false, offset, value);

    /// <inheritdoc cref="SetSlot32(int, int)"/>
    public void SetSlot32(int offset, uint value) => SlotImmediate(false, offset, unchecked((int)value));

    /// <summary><c>mov qword fs:[context + offset], value</c> (sign-extended imm32) written directly, as <see cref="SetSlot32(int, int)"/>.</summary>
    public void SetSlot64(int offset, int value) => SlotImmediate(true, offset, value);

    /// <summary><c>test byte fs:[context + offset], value</c> written directly (the plain blocks' guards test Dirty's bytes).</summary>
    public void TestSlot8(int offset, byte value) => SlotImmediate(Code.Test_rm8_imm8, false, 0xF6, 0, offset, value, 1);

    /// <summary><c>test dword fs:[context + offset], value</c> written directly.</summary>
    public void TestSlot32(int offset, int value) => SlotImmediate(Code.Test_rm32_imm32, false, 0xF7, 0, offset, value, 4);

    /// <summary><c>or byte fs:[context + offset], value</c> written directly.</summary>
    public void OrSlot8(int offset, byte value) => SlotImmediate(Code.Or_rm8_imm8, false, 0x80, 1, offset, value, 1);

    private void SlotImmediate(bool qword, int offset, int value) =>
        SlotImmediate(qword ? Code.Mov_rm64_imm32 : Code.Mov_rm32_imm32, qword, 0xC7, 0, offset, value, 4);

    /// <summary>An instruction on fs:[context + offset] with an immediate: fs, REX.W if asked, the opcode, ModRM (reg field <paramref name="reg"/>) and SIB of an absolute disp32, the immediate.</summary>
    private void SlotImmediate(Code code, bool rexW, byte opcode, int reg, int offset, int value, int immediateBytes)
    {
        Span<byte> bytes = _writer.Room(13);
        int n = 0;
        bytes[n++] = 0x64;
        if (rexW) bytes[n++] = 0x48;
        bytes[n++] = opcode;
        bytes[n++] = (byte)(0x04 | reg << 3);
        bytes[n++] = 0x25;
        BitConverter.TryWriteBytes(bytes[n..], offset + ContextTls.Offset);
        n += 4;
        if (immediateBytes == 1) bytes[n] = (byte)value;
        else BitConverter.TryWriteBytes(bytes[n..], value);
        _writer.Advance(n + immediateBytes);
    }

    private void SlotMove(byte opcode, Register register, int offset)
    {
        if (register is < Register.RAX or > Register.R15)
        {
            Encode(opcode == 0x89 ? ContextOperand.Store(offset, register) : ContextOperand.Load(register, offset));
            return;
        }
        int n = register - Register.RAX;
        Span<byte> bytes = _writer.Room(9);
        bytes[0] = 0x64;
        bytes[1] = (byte)(0x48 | (n >> 3) << 2);
        bytes[2] = opcode;
        bytes[3] = (byte)(0x04 | (n & 7) << 3);
        bytes[4] = 0x25;
        BitConverter.TryWriteBytes(bytes[5..], offset + ContextTls.Offset);
        _writer.Advance(9);
    }

    /// <summary>Instructions copied from a form Iced encoded before (<see cref="EncodedForms"/>).</summary>
    internal long CopiedInstructions => _copied;

    /// <summary>
    /// Pads with NOPs so that an instruction whose rel32 field starts <paramref name="fieldOffset"/> bytes
    /// in has that field within one aligned quadword: a 4-byte store there is atomic on AMD (misaligned
    /// within a quadword) and Intel (within a cache line), which is what linking needs. Padding to 4-byte
    /// alignment put NOPs between most cmp/test and their jcc (no macro-fusion): 8-9% of python's and
    /// sqlite's fragment samples landed on NOPs; this pads 3 of 8 fields instead of 3 of 4, by half as much.
    /// The padding is one NOP of 1 to 3 bytes: on this machine's AMD EPYC a cmp/jcc pair with two or
    /// three one-byte NOPs between ran 30-60% slower in a loop of such pairs, with one multi-byte NOP
    /// (or none) at full speed.
    /// </summary>
    public void AlignPatchField(int fieldOffset)
    {
        int misaligned = (int)((CurrentAddress + (ulong)fieldOffset) & 7);
        switch (misaligned > 4 ? 8 - misaligned : 0)
        {
            case 1: Byte(0x90); break;
            case 2: Byte(0x66); Byte(0x90); break;                    // xchg ax, ax
            case 3: Byte(0x0F); Byte(0x1F); Byte(0x00); break;        // nop dword [rax]
        }
    }

    /// <summary>Emits <c>jmp rel32</c> to <paramref name="target"/>; returns the offset of the rel32 field.</summary>
    public int JmpRel32(ulong target)
    {
        AlignPatchField(1);
        Byte(0xE9);
        return EmitRel32Field(target);
    }

    /// <summary>Emits <c>jcc rel32</c> with the 4-bit condition code <paramref name="cc"/>; returns the rel32 field's offset.</summary>
    public int JccRel32(int cc, ulong target)
    {
        AlignPatchField(2);
        Byte(0x0F);
        Byte((byte)(0x80 | cc));
        return EmitRel32Field(target);
    }

    private int EmitRel32Field(ulong target)
    {
        int field = Length;
        Int32(Rel32.Displacement(CurrentAddress + 4, target));
        return field;
    }

    /// <summary>Rewrites an already emitted rel32 field to point at <paramref name="target"/>.</summary>
    public void PatchRel32(int fieldOffset, ulong target)
    {
        ulong next = BaseAddress + (ulong)fieldOffset + 4;
        BitConverter.TryWriteBytes(_writer.SpanAt(fieldOffset, 4), Rel32.Displacement(next, target));
    }

    public void PatchByte(int offset, byte value) => _writer.SpanAt(offset, 1)[0] = value;

    public void PatchInt32(int offset, int value) => BitConverter.TryWriteBytes(_writer.SpanAt(offset, 4), value);

    private sealed class ByteWriter : CodeWriter
    {
        private byte[] _buffer = new byte[1024];
        public int Length { get; private set; }
        public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);
        public Span<byte> SpanAt(int offset, int count) => _buffer.AsSpan(offset, count);
        public void Truncate(int length) => Length = length;

        public override void WriteByte(byte value)
        {
            if (Length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            _buffer[Length++] = value;
        }

        /// <summary>At least <paramref name="count"/> writable bytes at the end (not yet counted: <see cref="Advance"/>).</summary>
        public Span<byte> Room(int count)
        {
            while (Length + count > _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            return _buffer.AsSpan(Length, count);
        }

        public void Advance(int count) => Length += count;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            while (Length + bytes.Length > _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }
    }
}
