using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>Collects the bytes Iced's assembler emits for a routine generated once.</summary>
public sealed class ListCodeWriter : CodeWriter
{
    public List<byte> Bytes { get; } = [];
    public override void WriteByte(byte value) => Bytes.Add(value);
}
