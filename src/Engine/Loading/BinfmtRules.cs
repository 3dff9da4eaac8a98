using Checker.Symbols.Elf;

namespace Checker.Engine.Loading;

/// <summary>
/// What Linux's binfmt_elf (6.x) requires of an image it maps, beyond the header checks
/// <see cref="ElfImage"/> makes, and the values it derives from the program headers. Each rule
/// was checked against this machine's kernel by running the same damaged file natively.
/// </summary>
public static class BinfmtRules
{
    /// <summary>TASK_SIZE with 4-level paging: the user address space a new program gets.</summary>
    public const ulong TaskSize = 0x7fff_ffff_f000;

    private const ulong PageSize = 0x1000, PageMask = PageSize - 1;

    /// <summary>
    /// Throws <see cref="ElfFormatException"/> when the PT_LOAD segments of <paramref name="image"/>
    /// cannot be mapped as the kernel would map them. The kernel's own refusals: p_filesz above
    /// p_memsz, a segment outside TASK_SIZE, p_offset and p_vaddr not congruent modulo the page
    /// (its mmap fails); and no PT_LOAD at all. One deliberate difference: a page of a segment that
    /// lies wholly past the end of the file (a truncated file) is refused here, where the kernel
    /// maps it and the program dies of SIGBUS when it touches it, or at exec when that page holds
    /// the start of a writable segment's bss.
    /// </summary>
    public static void CheckLoadable(ElfImage image)
    {
        int index = -1, loads = 0;
        foreach (ElfProgramHeader ph in image.ProgramHeaders)
        {
            index++;
            if (ph.Type != ElfSegmentType.Load) continue;
            loads++;
            if (ph.FileSize > ph.MemorySize)
                throw new ElfFormatException($"bad loadable segment {index}: file size exceeds memory size");
            if (ph.VirtualAddress >= TaskSize || ph.MemorySize > TaskSize - ph.VirtualAddress)
                throw new ElfFormatException($"bad loadable segment {index}: outside the user address space");
            if (ph.FileSize == 0) continue;
            if (((ph.Offset ^ ph.VirtualAddress) & PageMask) != 0)
                throw new ElfFormatException($"misaligned loadable segment {index} (p_offset and p_vaddr differ within the page)");
            ulong lastFileByte = ph.FileSize - 1 > ulong.MaxValue - ph.Offset ? ulong.MaxValue : ph.Offset + ph.FileSize - 1;
            if ((lastFileByte & ~PageMask) >= PageUp(image.FileSize))
                throw new ElfFormatException($"truncated ELF file (loadable segment {index} lies beyond the end of the file)");
        }
        if (loads == 0) throw new ElfFormatException("no loadable segments");
        if (image.IsPositionIndependent && image.HighestLoadAddress - image.LowestLoadAddress > TaskSize)
            throw new ElfFormatException("the loadable segments span more than the user address space");
    }

    /// <summary>
    /// AT_PHDR before the load bias: in the last PT_LOAD whose file bytes hold e_phoff (the kernel
    /// does not look at PT_PHDR), or 0 when none does.
    /// </summary>
    public static ulong ProgramHeaderVirtualAddress(ElfImage image)
    {
        ulong address = 0;
        ulong phoff = image.ProgramHeaderOffset;
        foreach (ElfProgramHeader ph in image.ProgramHeaders)
        {
            if (ph.Type == ElfSegmentType.Load && ph.Offset <= phoff && phoff - ph.Offset < ph.FileSize)
                address = ph.VirtualAddress + (phoff - ph.Offset);
        }
        return address;
    }

    /// <summary>
    /// maximum_alignment(): the largest power-of-two p_align of the PT_LOAD segments, at least a page.
    /// A position-independent image is placed at a multiple of it.
    /// </summary>
    public static ulong MaximumAlignment(ElfImage image)
    {
        ulong alignment = PageSize;
        foreach (ElfProgramHeader ph in image.ProgramHeaders)
        {
            if (ph.Type == ElfSegmentType.Load && ulong.IsPow2(ph.Align) && ph.Align > alignment)
                alignment = ph.Align;
        }
        return alignment;
    }

    /// <summary>
    /// Bytes from the image's lowest page to the end of its last executable segment: the part that
    /// must lie in reach of the code cache for its RIP-relative operands to stay rel32.
    /// </summary>
    public static ulong CodeExtent(ElfImage image)
    {
        ulong low = image.LowestLoadAddress, end = 0;
        foreach (ElfProgramHeader ph in image.ProgramHeaders)
        {
            if (ph.Type == ElfSegmentType.Load && ph.Flags.HasFlag(ElfSegmentFlags.Execute))
                end = Math.Max(end, ph.VirtualAddress + ph.MemorySize - low);
        }
        return end;
    }

    private static ulong PageUp(ulong value) => value > ulong.MaxValue - PageMask ? ulong.MaxValue & ~PageMask : (value + PageMask) & ~PageMask;
}
