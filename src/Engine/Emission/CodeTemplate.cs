namespace Checker.Engine.Emission;

/// <summary>
/// A stretch of generated code whose bytes depend only on its shape (registers, sizes, which
/// variant), encoded once and then copied for every site of that shape, with the fields that
/// differ per site patched: rel32 branches and RIP-relative displacements (from the copy's own
/// address to an absolute target) and 32-bit immediates. Translation used to build each of these
/// instruction by instruction through Iced for every access site (the slow-path stubs were a fifth
/// of checked translation on cc1plus); the copies are the same bytes.
/// </summary>
public sealed class CodeTemplate
{
    /// <summary>
    /// A field of the template: 4 bytes at <see cref="Offset"/>, a displacement relative to <see cref="End"/> (the end of its
    /// instruction) or a plain 32-bit value, taken from argument <see cref="Argument"/>; argument -1 is the copy's own
    /// address at <see cref="End"/> (a jump-and-link's return point).
    /// </summary>
    internal readonly record struct Field(int Offset, int End, int Argument, bool Relative);

    private readonly byte[] _bytes;
    private readonly Field[] _fields;

    private CodeTemplate(byte[] bytes, Field[] fields)
    {
        _bytes = bytes;
        _fields = fields;
    }

    public int Length => _bytes.Length;

    /// <summary>The recorded bytes, as encoded at the recording's address (fields filled with what the recording passed).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// Records a template: <paramref name="emit"/> writes one instance into a buffer at
    /// <paramref name="buildAddress"/> (any address within rel32 reach of the targets it uses, whose
    /// placeholders it may pass) and marks its fields on the recorder.
    /// </summary>
    public static CodeTemplate Record(ulong buildAddress, Action<CodeBuffer, Recorder> emit)
    {
        // One buffer per thread for every recording: a CodeBuffer's encoder and form table (256 KB)
        // made per template cost /bin/true 2,000 page faults.
        CodeBuffer code = t_recording ?? new CodeBuffer(buildAddress);
        t_recording = null;
        try
        {
            code.Reset(buildAddress);
            var recorder = new Recorder(code);
            emit(code, recorder);
            return new CodeTemplate(code.Bytes.ToArray(), [.. recorder.Fields]);
        }
        finally
        {
            t_recording = code;
        }
    }

    /// <summary>The bytes <paramref name="emit"/> writes at address 0 (code without position-dependent fields).</summary>
    public static byte[] Encode(Action<CodeBuffer> emit) => Record(0, (code, _) => emit(code))._bytes;

    [ThreadStatic] private static CodeBuffer? t_recording;

    /// <summary>Writes the template at the buffer's current address with its fields filled from <paramref name="arguments"/>.</summary>
    public void CopyTo(CodeBuffer code, ReadOnlySpan<ulong> arguments)
    {
        int start = code.Length;
        ulong at = code.CurrentAddress;
        code.Raw(_bytes);
        foreach (Field field in _fields)
        {
            ulong argument = field.Argument < 0 ? at + (ulong)field.End : arguments[field.Argument];
            int value = field.Relative
                ? Rel32.Displacement(at + (ulong)field.End, argument)
                : checked((int)unchecked((long)argument));
            code.PatchInt32(start + field.Offset, value);
        }
    }

    /// <summary>Marks a template's fields while it is being emitted.</summary>
    public sealed class Recorder(CodeBuffer code)
    {
        internal readonly List<Field> Fields = [];

        /// <summary>
        /// The instruction just emitted has a 4-byte field <paramref name="trailing"/> bytes before its end
        /// (0: the field ends it; 1: an imm8 follows), relative to the instruction's end: argument
        /// <paramref name="argument"/> is the absolute target.
        /// </summary>
        public void Relative(int argument, int trailing = 0) =>
            Fields.Add(new Field(code.Length - 4 - trailing, code.Length, argument, true));

        /// <summary>The 32-bit field at <paramref name="offset"/> holds the copy's own address here (the current end).</summary>
        public void AddressHere(int offset) =>
            Fields.Add(new Field(offset, code.Length, -1, false));

        /// <summary>The instruction just emitted ends in a 32-bit immediate that is argument <paramref name="argument"/>.</summary>
        public void Immediate(int argument) =>
            Fields.Add(new Field(code.Length - 4, code.Length, argument, false));
    }
}
