using System.Buffers.Binary;

namespace Checker.Engine.Loading;

/// <summary>
/// The aux vector the kernel gave this (host) process: hardware capabilities, vDSO, page size,
/// ids. The loader copies the entries a guest should see from here.
/// </summary>
public static class HostAuxv
{
    /// <summary>Reads /proc/self/auxv; the entries before AT_NULL, in kernel order.</summary>
    public static IReadOnlyList<AuxEntry> Read() => Parse(File.ReadAllBytes("/proc/self/auxv"));

    /// <summary>Decodes raw auxv bytes: pairs of little-endian 64-bit words, ending at AT_NULL or the data's end.</summary>
    public static IReadOnlyList<AuxEntry> Parse(ReadOnlySpan<byte> raw)
    {
        var list = new List<AuxEntry>();
        for (int o = 0; o + 16 <= raw.Length; o += 16)
        {
            ulong type = BinaryPrimitives.ReadUInt64LittleEndian(raw[o..]);
            if (type == AuxType.AT_NULL) break;
            list.Add(new AuxEntry(type, BinaryPrimitives.ReadUInt64LittleEndian(raw[(o + 8)..])));
        }
        return list;
    }
}
