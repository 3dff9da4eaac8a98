using System.Runtime.Versioning;
using System.Security.Cryptography;
using Checker.Engine.Memory;
using Checker.Engine.Native;
using Checker.Symbols.Elf;

namespace Checker.Engine.Loading;

/// <summary>A guest program ready to run: where to start and with which stack.</summary>
/// <param name="StackLimit">The lowest address the main stack may grow to (RLIMIT_STACK below its top); a guard gap lies below.</param>
/// <param name="StackExecutable">PT_GNU_STACK asked for an executable stack.</param>
public sealed record LoadedProgram(MappedImage Executable, MappedImage? Interpreter, ulong StartPc, ulong StackPointer, ulong StackTop,
    ulong StackLimit, bool StackExecutable = false);

/// <summary>
/// Does what execve does for a new process, inside our own address space: maps the executable and
/// its interpreter (ld.so), and builds the initial stack with argv, envp and the aux vector. The
/// guest's ld.so then loads its own libraries through (steered) mmap calls.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ProgramLoader
{
    public static LoadedProgram Load(ElfImage executable, IReadOnlyList<string> argv, IReadOnlyList<string> envp, string execFn, CodeWindow window)
    {
        MappedImage exe = MapInWindow(executable, window);
        MappedImage? interp = null;
        if (executable.Interpreter is string interpreterPath)
        {
            ElfImage interpreterImage;
            try { interpreterImage = ElfImage.Open(interpreterPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ElfFormatException($"cannot open the program's interpreter {interpreterPath}: {e.Message}");
            }
            interp = MapInWindow(interpreterImage, window);
        }

        // The main stack, at the top of the guest's region: RLIMIT_STACK of it may be used, and the
        // guard gap below is reserved (PROT_NONE) so a runaway recursion faults there, as natively.
        bool executableStack = executable.ProgramHeaders.Any(p => p.Type == ElfSegmentType.GnuStack && p.Flags.HasFlag(ElfSegmentFlags.Execute));
        ulong stackSize = StackSize();
        ulong stackTop = AddressSpaceLayout.GuestStackTop, stackLimit = stackTop - stackSize;
        HostMemory.MapAnonymous(stackLimit - AddressSpaceLayout.StackGuardGap, AddressSpaceLayout.StackGuardGap, LibC.ProtNone, noReserve: true);
        HostMemory.MapAnonymous(stackLimit, stackSize, LibC.ProtRead | LibC.ProtWrite | (executableStack ? LibC.ProtExec : 0), noReserve: true);
        InitialStack stack = InitialStackBuilder.Build(stackTop, argv, envp,
            AuxVector(exe, interp), RandomNumberGenerator.GetBytes(16), "x86_64", execFn);
        CopyToGuest(stack.ImageBase, stack.Image);

        return new LoadedProgram(exe, interp, interp?.Entry ?? exe.Entry, stack.StackPointer, stackTop, stackLimit, executableStack);
    }

    /// <summary>How far the main stack may grow: RLIMIT_STACK as the kernel applies it (unlimited, or over 1 GiB: 1 GiB).</summary>
    private static ulong StackSize()
    {
        ulong limit = HostLimits.StackLimit() ?? AddressSpaceLayout.MaxStackSize;
        limit = Math.Clamp(limit, 128UL << 10, AddressSpaceLayout.MaxStackSize);
        return HostMemory.PageUp(limit);
    }

    /// <summary>Maps a shared object of the tool's own into the guest (position-independent: in the code window).</summary>
    public static MappedImage MapLibrary(ElfImage image, CodeWindow window) => MapInWindow(image, window);

    private static MappedImage MapInWindow(ElfImage image, CodeWindow window)
    {
        if (!image.IsPositionIndependent) return ElfMapper.Map(image, 0);
        ulong span = image.HighestLoadAddress - image.LowestLoadAddress;
        ulong at = window.Candidate(span) ?? throw new EngineException($"{image.Path} does not fit in the guest code window");
        window.Consume(at, span);
        return ElfMapper.Map(image, at);
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
        aux.Add(new(AuxType.AT_BASE, interp?.Start ?? 0));
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
