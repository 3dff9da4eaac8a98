using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>
/// Machine code under construction for a known final address. Guest instructions are copied as raw
/// bytes or re-encoded by Iced at their new address (which retargets RIP-relative operands); exits
/// are rel32 jumps whose displacement fields are 4-byte aligned so a later link is one atomic store.
/// </summary>
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
        if (TryEncodeContextMove(instruction)) return;
        if (!TryEncode(instruction, out string? error))
            throw new EngineException($"cannot encode '{instruction}': {error}");
    }

    // Moves between a register or an immediate and a context slot (gs:[absolute]) are most of the
    // instrumentation's instructions, and their bytes depend only on the form, the register and
    // the slot (no RIP-relative field; the immediate is the last 4 bytes): each form is encoded by
    // Iced once and copied after that.
    private readonly Dictionary<(Code Code, Register Register, ulong Slot), byte[]> _contextMoves = [];

    private bool TryEncodeContextMove(in Instruction instruction)
    {
        Code code = instruction.Code;
        if (code is not (Code.Mov_rm64_r64 or Code.Mov_r64_rm64 or Code.Mov_rm32_imm32 or Code.Mov_rm64_imm32)
            || instruction.SegmentPrefix != Register.GS || instruction.MemoryBase != Register.None || instruction.MemoryIndex != Register.None)
            return false;
        bool immediate = code is Code.Mov_rm32_imm32 or Code.Mov_rm64_imm32;
        Register register = code == Code.Mov_rm64_r64 ? instruction.Op1Register : code == Code.Mov_r64_rm64 ? instruction.Op0Register : Register.None;
        var key = (code, register, instruction.MemoryDisplacement64);
        if (!_contextMoves.TryGetValue(key, out byte[]? template))
        {
            Instruction form = instruction;
            if (immediate) form.Immediate32 = 0;
            int mark = _writer.Length;
            if (!_encoder.TryEncode(form, CurrentAddress, out _, out _)) { _writer.Truncate(mark); return false; }
            template = _writer.Span[mark..].ToArray();
            _writer.Truncate(mark);
            _contextMoves[key] = template;
        }
        _writer.Write(template);
        if (immediate) BitConverter.TryWriteBytes(_writer.SpanAt(_writer.Length - 4, 4), instruction.Immediate32);
        return true;
    }

    /// <summary>Pads with NOPs so that an instruction whose rel32 field starts <paramref name="fieldOffset"/> bytes in has that field 4-byte aligned.</summary>
    public void AlignPatchField(int fieldOffset)
    {
        while (((CurrentAddress + (ulong)fieldOffset) & 3) != 0) Byte(0x90);
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

        public void Write(ReadOnlySpan<byte> bytes)
        {
            while (Length + bytes.Length > _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }
    }
}
