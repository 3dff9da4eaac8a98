using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Native;
using Checker.Symbols.Elf;

namespace Checker.Engine.Loading;

/// <summary>A module mapped into memory: its load bias and where its program headers are.</summary>
public sealed record MappedImage(ElfImage Image, ulong LoadBias, ulong Start, ulong End)
{
    public ulong Entry => Image.Entry + LoadBias;

    /// <summary>Address of the program headers in memory (AT_PHDR), as the kernel computes it.</summary>
    public ulong ProgramHeaderAddress
    {
        get
        {
            foreach (ElfProgramHeader ph in Image.ProgramHeaders)
                if (ph.Type == ElfSegmentType.Phdr) return ph.VirtualAddress + LoadBias;
            foreach (ElfProgramHeader ph in Image.ProgramHeaders)
                if (ph.Type == ElfSegmentType.Load && ph.Offset <= Image.ProgramHeaderOffset &&
                    Image.ProgramHeaderOffset < ph.Offset + ph.FileSize)
                    return ph.VirtualAddress + (Image.ProgramHeaderOffset - ph.Offset) + LoadBias;
            return 0;
        }
    }
}

/// <summary>
/// Maps the PT_LOAD segments of an ELF file the way the kernel's binfmt_elf does: the whole span is
/// reserved first (so a clash with the host's own mappings is one clear error), then each segment is
/// mapped from the file with its protection, and the bss is zero-filled.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class ElfMapper
{
    /// <summary>Maps <paramref name="image"/>; position-independent images go at <paramref name="baseAddress"/>.</summary>
    public static MappedImage Map(ElfImage image, ulong baseAddress)
    {
        var loads = image.ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load).ToList();
        if (loads.Count == 0) throw new ElfFormatException($"{image.Path}: no loadable segments");
        ulong low = HostMemory.PageDown(loads.Min(p => p.VirtualAddress));
        ulong high = HostMemory.PageUp(loads.Max(p => p.VirtualAddress + p.MemorySize));
        ulong bias = image.IsPositionIndependent ? baseAddress - low : 0;
        ulong start = low + bias, span = high - low;

        nint reserved = LibC.mmap((nint)start, (nuint)span, LibC.ProtNone,
            LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixedNoReplace, -1, 0);
        if (reserved == LibC.MapFailed || (ulong)reserved != start)
            throw new EngineException($"cannot place {image.Path} at 0x{start:x}: the range is in use (errno {Marshal.GetLastPInvokeError()})");

        int fd = LibC.open(image.Path, 0 /* O_RDONLY */);
        if (fd < 0) throw new EngineException($"cannot open {image.Path}: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            foreach (ElfProgramHeader ph in loads) MapSegment(image, ph, bias, fd);
        }
        finally
        {
            LibC.close(fd);
        }
        return new MappedImage(image, bias, start, start + span);
    }

    private static void MapSegment(ElfImage image, ElfProgramHeader ph, ulong bias, int fd)
    {
        int prot = ProtectionOf(ph.Flags);
        ulong segStart = ph.VirtualAddress + bias;
        ulong pageStart = HostMemory.PageDown(segStart);
        ulong pageOffset = segStart - pageStart;
        ulong fileEnd = segStart + ph.FileSize;
        ulong memEnd = segStart + ph.MemorySize;

        if (ph.FileSize > 0)
        {
            if (ph.Offset < pageOffset || ((ph.Offset - pageOffset) & (HostMemory.PageSize - 1)) != 0)
                throw new ElfFormatException($"{image.Path}: misaligned loadable segment");
            ulong length = HostMemory.PageUp(fileEnd) - pageStart;
            nint r = LibC.mmap((nint)pageStart, (nuint)length, prot | LibC.ProtWrite, LibC.MapPrivate | LibC.MapFixed, fd, (long)(ph.Offset - pageOffset));
            if (r == LibC.MapFailed)
                throw new EngineException($"cannot map a segment of {image.Path}: errno {Marshal.GetLastPInvokeError()}");
            // Like the kernel, zero the whole tail of the last file page when a bss follows: ld.so's
            // early allocator hands out the rest of that page past _end and relies on it being zero.
            ulong zeroEnd = HostMemory.PageUp(fileEnd);
            if (ph.MemorySize > ph.FileSize && zeroEnd > fileEnd)
                new Span<byte>((void*)fileEnd, (int)(zeroEnd - fileEnd)).Clear();
            HostMemory.Protect(pageStart, length, prot);
        }

        ulong anonStart = ph.FileSize > 0 ? HostMemory.PageUp(fileEnd) : pageStart;
        ulong anonEnd = HostMemory.PageUp(memEnd);
        if (anonEnd > anonStart)
        {
            nint r = LibC.mmap((nint)anonStart, (nuint)(anonEnd - anonStart), prot, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed, -1, 0);
            if (r == LibC.MapFailed)
                throw new EngineException($"cannot map the bss of {image.Path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    private static int ProtectionOf(ElfSegmentFlags flags) =>
        (flags.HasFlag(ElfSegmentFlags.Read) ? LibC.ProtRead : 0) |
        (flags.HasFlag(ElfSegmentFlags.Write) ? LibC.ProtWrite : 0) |
        (flags.HasFlag(ElfSegmentFlags.Execute) ? LibC.ProtExec : 0);
}
