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
    public ulong ProgramHeaderAddress => BinfmtRules.ProgramHeaderVirtualAddress(Image) + LoadBias;

    /// <summary>The page ranges it occupies: [Start, End) for ET_DYN, each segment's (merged) for ET_EXEC.</summary>
    public IReadOnlyList<(ulong Start, ulong End)> Pieces { get; init; } = [(Start, End)];
}

/// <summary>
/// Maps the PT_LOAD segments of an ELF file the way the kernel's binfmt_elf (elf_load) does: what
/// it occupies is reserved first (so a clash is known before anything is mapped), each segment is
/// mapped from the file with its protection, the rest of a writable segment's last file page is
/// zeroed when a bss follows (a read-only segment's is left as the file has it: the kernel's
/// padzero fails there and is ignored), the bss pages past it are anonymous read-write memory
/// (executable too if the segment is), and the holes between an ET_DYN image's segments are
/// unmapped again.
/// The image must have passed <see cref="BinfmtRules.CheckLoadable"/>.
/// </summary>
[SupportedOSPlatform("linux")]
public static unsafe class ElfMapper
{
    private const int EEXIST = 17, ONonBlock = 0x800, OCloexec = 0x80000;

    /// <summary>
    /// Maps <paramref name="image"/> with its lowest page at <paramref name="start"/> (ignored for a
    /// fixed-address image, which goes to its link address). Returns null, with nothing mapped, when
    /// part of the range is already in use; other failures throw.
    /// </summary>
    public static MappedImage? TryMap(ElfImage image, ulong start)
    {
        var loads = image.ProgramHeaders.Where(p => p.Type == ElfSegmentType.Load).ToList();
        ulong low = image.LowestLoadAddress, span = image.HighestLoadAddress - low;
        ulong bias = image.IsPositionIndependent ? start - low : 0;
        start = low + bias;
        List<(ulong Start, ulong End)> pieces = Footprint(image, loads, bias);

        var reserved = new List<(ulong Start, ulong End)>();
        void Release()
        {
            foreach ((ulong s, ulong e) in reserved) LibC.munmap((nint)s, (nuint)(e - s));
        }
        foreach ((ulong from, ulong to) in pieces)
        {
            nint r = LibC.mmap((nint)from, (nuint)(to - from), LibC.ProtNone,
                LibC.MapPrivate | LibC.MapAnonymous | LibC.MapNoReserve | LibC.MapFixedNoReplace, -1, 0);
            if (r == LibC.MapFailed || (ulong)r != from)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (r != LibC.MapFailed) LibC.munmap(r, (nuint)(to - from)); // a kernel that took it as a hint
                Release();
                if (r != LibC.MapFailed || errno == EEXIST) return null;
                throw new ElfFormatException($"cannot map its segments at 0x{from:x}-0x{to:x}: {Marshal.GetPInvokeErrorMessage(errno)}");
            }
            reserved.Add((from, to));
        }

        int fd = LibC.open(image.Path, OCloexec | ONonBlock);
        try
        {
            if (fd < 0) throw new EngineException($"cannot open the file again to map it: errno {Marshal.GetLastPInvokeError()}");
            foreach (ElfProgramHeader ph in loads) MapSegment(ph, bias, fd);
            if (image.IsPositionIndependent) UnmapHoles(loads, bias, start, start + span);
        }
        catch
        {
            Release();
            throw;
        }
        finally
        {
            if (fd >= 0) LibC.close(fd);
        }
        return new MappedImage(image, bias, start, start + span) { Pieces = pieces };
    }

    /// <summary>
    /// What the kernel reserves: an ET_DYN image's whole span (its first mmap is total_size), an
    /// ET_EXEC image's segments one by one (merged where they touch), so holes between them, however
    /// large, stay free.
    /// </summary>
    private static List<(ulong Start, ulong End)> Footprint(ElfImage image, List<ElfProgramHeader> loads, ulong bias)
    {
        if (image.IsPositionIndependent) return [(image.LowestLoadAddress + bias, image.HighestLoadAddress + bias)];
        var pieces = new List<(ulong Start, ulong End)>();
        foreach (var (from, to) in loads
                     .Select(ph => (From: HostMemory.PageDown(ph.VirtualAddress), To: HostMemory.PageUp(ph.VirtualAddress + ph.MemorySize)))
                     .Where(r => r.To > r.From)
                     .OrderBy(r => r.From))
        {
            if (pieces.Count > 0 && from <= pieces[^1].End) pieces[^1] = (pieces[^1].Start, Math.Max(pieces[^1].End, to));
            else pieces.Add((from, to));
        }
        return pieces;
    }

    /// <summary>
    /// Maps a position-independent image wherever the kernel puts a mapping of its size (top-down,
    /// below the other libraries), aligned to <paramref name="alignment"/>: for images the code
    /// window has no room for.
    /// </summary>
    public static MappedImage MapAnywhere(ElfImage image, ulong alignment)
    {
        ulong span = image.HighestLoadAddress - image.LowestLoadAddress;
        for (int attempt = 0; attempt < 8; attempt++)
        {
            // Ask for span + alignment so an aligned start fits, then give it back and map there.
            nint probe = LibC.mmap(0, (nuint)(span + alignment), LibC.ProtNone,
                LibC.MapPrivate | LibC.MapAnonymous | LibC.MapNoReserve, -1, 0);
            if (probe == LibC.MapFailed)
                throw new EngineException($"no room for its {span:N0} bytes: errno {Marshal.GetLastPInvokeError()}");
            LibC.munmap(probe, (nuint)(span + alignment));
            ulong start = ((ulong)probe + alignment - 1) & ~(alignment - 1);
            if (TryMap(image, start) is MappedImage mapped) return mapped;
        }
        throw new EngineException($"no room for its {span:N0} bytes");
    }

    private static void MapSegment(ElfProgramHeader ph, ulong bias, int fd)
    {
        int prot = ProtectionOf(ph.Flags);
        ulong segStart = ph.VirtualAddress + bias;
        ulong pageStart = HostMemory.PageDown(segStart);
        ulong fileEnd = segStart + ph.FileSize;
        ulong memEnd = segStart + ph.MemorySize;

        ulong zeroStart = pageStart;
        if (ph.FileSize > 0)
        {
            ulong length = HostMemory.PageUp(fileEnd) - pageStart;
            nint r = LibC.mmap((nint)pageStart, (nuint)length, prot, LibC.MapPrivate | LibC.MapFixed, fd, (long)(ph.Offset - (segStart - pageStart)));
            if (r == LibC.MapFailed)
                throw new ElfFormatException($"cannot map a loadable segment: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            // padzero: ld.so's early allocator hands out the rest of its data page past _end and
            // relies on it being zero. Only writable segments: the kernel's write fails otherwise.
            if (ph.MemorySize > ph.FileSize && (prot & LibC.ProtWrite) != 0)
                new Span<byte>((void*)fileEnd, (int)(HostMemory.PageUp(fileEnd) - fileEnd)).Clear();
            zeroStart = fileEnd;
        }

        // vm_brk_flags: the bss pages are plain data pages (read-write), executable if the segment is.
        ulong anonStart = HostMemory.PageUp(zeroStart), anonEnd = HostMemory.PageUp(memEnd);
        if (ph.MemorySize > ph.FileSize && anonEnd > anonStart)
        {
            int bssProt = LibC.ProtRead | LibC.ProtWrite | (prot & LibC.ProtExec);
            nint r = LibC.mmap((nint)anonStart, (nuint)(anonEnd - anonStart), bssProt, LibC.MapPrivate | LibC.MapAnonymous | LibC.MapFixed, -1, 0);
            // The kernel's vm_brk fails the same way (ENOMEM): the program cannot run natively either.
            if (r == LibC.MapFailed)
                throw new ElfFormatException($"cannot map {anonEnd - anonStart:N0} bytes of bss: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    /// <summary>The kernel maps only the segments; the reservation's pages between them go away again.</summary>
    private static void UnmapHoles(List<ElfProgramHeader> loads, ulong bias, ulong start, ulong end)
    {
        var covered = loads
            .Select(ph => (From: HostMemory.PageDown(ph.VirtualAddress + bias), To: HostMemory.PageUp(ph.VirtualAddress + bias + ph.MemorySize)))
            .OrderBy(r => r.From);
        ulong at = start;
        foreach ((ulong from, ulong to) in covered)
        {
            if (from > at) LibC.munmap((nint)at, (nuint)(from - at));
            at = Math.Max(at, to);
        }
        if (end > at) LibC.munmap((nint)at, (nuint)(end - at));
    }

    private static int ProtectionOf(ElfSegmentFlags flags) =>
        (flags.HasFlag(ElfSegmentFlags.Read) ? LibC.ProtRead : 0) |
        (flags.HasFlag(ElfSegmentFlags.Write) ? LibC.ProtWrite : 0) |
        (flags.HasFlag(ElfSegmentFlags.Execute) ? LibC.ProtExec : 0);
}
