using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Symbols.Elf;

namespace Checker.Engine.Loading;

/// <summary>A guest program ready to run: where to start and with which stack.</summary>
/// <param name="StackLimit">The lowest address the main stack may grow to (RLIMIT_STACK below its top); a guard gap lies below.</param>
/// <param name="StackExecutable">PT_GNU_STACK asked for an executable stack.</param>
public sealed record LoadedProgram(MappedImage Executable, MappedImage? Interpreter, ulong StartPc, ulong StackPointer, ulong StackTop,
    ulong StackLimit, bool StackExecutable = false)
{
    /// <summary>
    /// <paramref name="preferred"/>, or, when the executable or interpreter occupies part of
    /// [preferred, preferred+length), the first 1 MiB boundary above them (a region for the brk).
    /// </summary>
    public ulong FirstFreeFrom(ulong preferred, ulong length)
    {
        ulong at = preferred;
        var pieces = Executable.Pieces.Concat(Interpreter?.Pieces ?? []).OrderBy(p => p.Start);
        foreach ((ulong start, ulong end) in pieces)
        {
            if (start < at + length && end > at) at = (end + 0xf_ffff) & ~0xf_ffffUL;
        }
        return at;
    }
}

/// <summary>
/// Does what execve does for a new process, inside our own address space: maps the executable and
/// its interpreter (ld.so) with binfmt_elf's rules (<see cref="BinfmtRules"/>, <see cref="ElfMapper"/>),
/// and builds the initial stack with argv, envp and the aux vector. The guest's ld.so then loads
/// its own libraries through (steered) mmap calls.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ProgramLoader
{
    /// <summary>Larger p_align values are honoured only up to this (the window is a few GB).</summary>
    private const ulong MaxPlacementAlignment = 1UL << 30;

    /// <summary>
    /// Loads <paramref name="executable"/>. What the kernel would refuse is an <see cref="ElfFormatException"/>
    /// (its message names the interpreter when the problem is there, never the executable itself);
    /// what memcheck cannot do is an <see cref="EngineException"/>.
    /// </summary>
    public static LoadedProgram Load(ElfImage executable, IReadOnlyList<string> argv, IReadOnlyList<string> envp, string execFn, CodeWindow window)
    {
        // The kernel's order: PT_INTERP and the interpreter's file and headers are judged first
        // (execve fails), the segments only while mapping them (the new process dies of SIGSEGV).
        if (executable.InterpreterError is string interpError) throw new ElfFormatException(interpError);
        ElfImage? interpreterImage = executable.Interpreter is string interpreterPath ? OpenInterpreter(interpreterPath) : null;
        BinfmtRules.CheckLoadable(executable);

        MappedImage exe = Place(executable, window);
        MappedImage? interp = null;
        if (interpreterImage != null)
        {
            // Messages of mapping never name the file: the executable is named by the caller.
            try { interp = Place(interpreterImage, window); }
            catch (ElfFormatException e) { throw new ElfFormatException($"its interpreter {interpreterImage.Path}: {e.Message}"); }
            catch (EngineException e) { throw new EngineException($"its interpreter {interpreterImage.Path}: {e.Message}"); }
        }

        // The main stack, at the top of the guest's region: RLIMIT_STACK of it may be used, and the
        // guard gap below is reserved (PROT_NONE) so a runaway recursion faults there, as natively.
        bool executableStack = executable.ProgramHeaders.Any(p => p.Type == ElfSegmentType.GnuStack && p.Flags.HasFlag(ElfSegmentFlags.Execute));
        ulong stackSize = StackSize();
        ulong stackTop = AddressSpaceLayout.GuestStackTop, stackLimit = stackTop - stackSize;
        HostMemory.MapAnonymous(stackLimit - AddressSpaceLayout.StackGuardGap, AddressSpaceLayout.StackGuardGap, LibC.ProtNone, noReserve: true);
        HostMemory.MapAnonymous(stackLimit, stackSize, LibC.ProtRead | LibC.ProtWrite | (executableStack ? LibC.ProtExec : 0), noReserve: true);
        InitialStack stack = InitialStackBuilder.Build(stackTop, argv, envp,
            AuxVector(exe, interp), AtRandomBytes(), "x86_64", execFn);
        CopyToGuest(stack.ImageBase, stack.Image);

        return new LoadedProgram(exe, interp, interp?.Entry ?? exe.Entry, stack.StackPointer, stackTop, stackLimit, executableStack);
    }

    /// <summary>
    /// AT_RANDOM's 16 bytes (the guest's stack protector and pointer guard) from getrandom(2), as the
    /// kernel fills them. Not RandomNumberGenerator: on Linux it loads libssl and libcrypto and reads
    /// openssl.cnf, a few milliseconds of every start.
    /// </summary>
    private static unsafe byte[] AtRandomBytes()
    {
        var bytes = new byte[16];
        fixed (byte* p = bytes)
        {
            for (int done = 0; done < bytes.Length;)
            {
                nint n = LibC.getrandom(p + done, (nuint)(bytes.Length - done), 0);
                if (n > 0) done += (int)n;
                else if (Marshal.GetLastPInvokeError() != 4) throw new EngineException("getrandom failed: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            }
        }
        return bytes;
    }

    /// <summary>How far the main stack may grow: RLIMIT_STACK as the kernel applies it (unlimited, or over 1 GiB: 1 GiB).</summary>
    private static ulong StackSize()
    {
        ulong limit = HostLimits.StackLimit() ?? AddressSpaceLayout.MaxStackSize;
        limit = Math.Clamp(limit, 128UL << 10, AddressSpaceLayout.MaxStackSize);
        return HostMemory.PageUp(limit);
    }

    /// <summary>Maps a shared object of the tool's own into the guest (position-independent: in the code window).</summary>
    public static MappedImage MapLibrary(ElfImage image, CodeWindow window)
    {
        BinfmtRules.CheckLoadable(image);
        return Place(image, window);
    }

    /// <summary>
    /// The PT_INTERP file, checked as open_exec and load_elf_binary check it: a regular file
    /// (EACCES natively otherwise, and a FIFO or /dev/zero is never read), with execute permission,
    /// an x86-64 ELF header and program headers (ELIBBAD/EIO natively), and mappable segments.
    /// A missing file is <see cref="ElfFormatException.FileMissing"/> (ENOENT, as the shell's 127).
    /// </summary>
    private static ElfImage OpenInterpreter(string path)
    {
        string Problem(string what) => $"its interpreter {path}: {what}";
        try
        {
            // open_exec("") resolves to the working directory (EACCES natively): so does this.
            string file = path.Length == 0 ? "." : path;
            ElfImage image = ElfImage.Open(file);
            if ((File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) == 0)
                throw new ElfFormatException("permission denied (not executable)");
            BinfmtRules.CheckLoadable(image);
            return image;
        }
        catch (FileNotFoundException e)
        {
            throw new ElfFormatException(Problem(e.Message)) { FileMissing = true };
        }
        catch (Exception e) when (e is ElfFormatException or IOException or UnauthorizedAccessException)
        {
            throw new ElfFormatException(Problem(e.Message));
        }
    }

    /// <summary>
    /// A fixed-address image at its link address; a position-independent one at the lowest place
    /// of the code window that keeps its code in reach of the cache, or, when there is none, where
    /// the kernel would put it (its code then runs out of reach, correctly but slower).
    /// </summary>
    private static MappedImage Place(ElfImage image, CodeWindow window)
    {
        ulong span = image.HighestLoadAddress - image.LowestLoadAddress;
        if (!image.IsPositionIndependent)
        {
            MappedImage fixedImage = ElfMapper.TryMap(image, image.LowestLoadAddress)
                ?? throw new EngineException($"cannot place it at its link address 0x{image.LowestLoadAddress:x}-0x{image.HighestLoadAddress:x}: " +
                   $"memcheck's own memory is there (its code cache is at 0x{AddressSpaceLayout.CodeCacheStart:x}-0x{AddressSpaceLayout.CodeCacheStart + AddressSpaceLayout.CodeCacheSize:x})");
            foreach ((ulong from, ulong to) in fixedImage.Pieces) window.Consume(from, to - from);
            return fixedImage;
        }

        ulong alignment = Math.Min(BinfmtRules.MaximumAlignment(image), MaxPlacementAlignment);
        ulong code = BinfmtRules.CodeExtent(image);
        for (ulong? at = window.Candidate(span, alignment, code); at is ulong start; at = window.Candidate(span, alignment, code))
        {
            if (ElfMapper.TryMap(image, start) is MappedImage mapped)
            {
                window.Consume(start, span);
                return mapped;
            }
            window.NoteOccupied(start, span, MappedRegions.Read());
        }
        return ElfMapper.MapAnywhere(image, alignment);
    }

    private static List<AuxEntry> AuxVector(MappedImage exe, MappedImage? interp)
    {
        var host = HostAuxv.Read().ToDictionary(e => e.Type, e => e.Value);
        ulong HostValue(ulong type, ulong fallback) => host.TryGetValue(type, out ulong v) ? v : fallback;
        var aux = new List<AuxEntry>();
        if (host.TryGetValue(AuxType.AT_SYSINFO_EHDR, out ulong vdso)) aux.Add(new(AuxType.AT_SYSINFO_EHDR, vdso));
        if (host.TryGetValue(AuxType.AT_MINSIGSTKSZ, out ulong minSig)) aux.Add(new(AuxType.AT_MINSIGSTKSZ, minSig));
        aux.Add(new(AuxType.AT_HWCAP, HostValue(AuxType.AT_HWCAP, 0)));
        aux.Add(new(AuxType.AT_PAGESZ, HostMemory.PageSize));
        aux.Add(new(AuxType.AT_CLKTCK, HostValue(AuxType.AT_CLKTCK, 100)));
        aux.Add(new(AuxType.AT_PHDR, exe.ProgramHeaderAddress));
        aux.Add(new(AuxType.AT_PHENT, exe.Image.ProgramHeaderEntrySize));
        aux.Add(new(AuxType.AT_PHNUM, exe.Image.ProgramHeaderCount));
        aux.Add(new(AuxType.AT_BASE, interp?.LoadBias ?? 0));
        aux.Add(new(AuxType.AT_FLAGS, 0));
        aux.Add(new(AuxType.AT_ENTRY, exe.Entry));
        aux.Add(new(AuxType.AT_UID, HostValue(AuxType.AT_UID, 0)));
        aux.Add(new(AuxType.AT_EUID, HostValue(AuxType.AT_EUID, 0)));
        aux.Add(new(AuxType.AT_GID, HostValue(AuxType.AT_GID, 0)));
        aux.Add(new(AuxType.AT_EGID, HostValue(AuxType.AT_EGID, 0)));
        aux.Add(new(AuxType.AT_SECURE, 0));
        aux.Add(new(AuxType.AT_HWCAP2, HostValue(AuxType.AT_HWCAP2, 0)));
        return aux;
    }

    private static unsafe void CopyToGuest(ulong address, byte[] bytes) =>
        bytes.CopyTo(new Span<byte>((void*)address, bytes.Length));
}
