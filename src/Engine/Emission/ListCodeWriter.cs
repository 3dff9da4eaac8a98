using Iced.Intel;

namespace Checker.Engine.Emission;

/// <summary>Collects the bytes Iced's assembler emits for a routine generated once.</summary>
public sealed class ListCodeWriter : CodeWriter
{
    public List<byte> Bytes { get; } = [];
    public override void WriteByte(byte value) => Bytes.Add(value);
}

/// <summary>Places a routine assembled once into the code region.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class GeneratedRoutine
{
    /// <summary>Assembles <paramref name="a"/> into <paramref name="space"/> bytes of the region; returns the address of <paramref name="entry"/>.</summary>
    public static ulong Place(Assembler a, CodeCache.CodeRegion region, int space, Label entry, string name) =>
        Place(a, region, space, entry, name, out _);

    /// <summary>As above; <paramref name="result"/> gives the addresses of the routine's other labels.</summary>
    public static ulong Place(Assembler a, CodeCache.CodeRegion region, int space, Label entry, string name, out AssemblerResult result)
    {
        ulong at = region.Allocate((ulong)space, 64);
        var writer = new ListCodeWriter();
        result = a.Assemble(writer, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        if (writer.Bytes.Count > space) throw new EngineException($"{name} exceeds its {space} bytes");
        CodeCache.CodeRegion.Write(at, writer.Bytes.ToArray());
        if (Translation.BlockTranslator.Trace)
            Console.Error.WriteLine($"memcheck-trace: routine {name} at 0x{at:x}+{writer.Bytes.Count} {Convert.ToHexString(writer.Bytes.ToArray())}");
        return result.GetLabelRIP(entry);
    }
}
