using System.Runtime.Versioning;
using Checker.Engine.CodeCache;
using Checker.Engine.Interception;
using Checker.Engine.Loading;
using Checker.Engine.Memory;
using Checker.Engine.Syscalls;
using Checker.Symbols.Elf;

namespace Checker.Engine.Tools;

/// <summary>The engine's services a tool uses when it attaches and afterwards.</summary>
[SupportedOSPlatform("linux")]
public sealed class ToolHost(GuestProcess process, LoadedProgram program, CodeWindow window, Action<GuestMappings, MappedImage> recordImage)
{
    /// <summary>Process-wide guest state and its events (mappings, unmaps, faults the program handles, fork, exec), threads, signals.</summary>
    public GuestProcess Process { get; } = process;
    /// <summary>The loaded executable, interpreter and initial stack.</summary>
    public LoadedProgram Program { get; } = program;
    /// <summary>The code cache: its region (for the tool's shared routines), its routines (Exit), its lock.</summary>
    public TranslationCache Cache => Process.Cache;
    /// <summary>Function replacement, once <see cref="ReplaceFunctions"/> asked for it.</summary>
    public FunctionInterceptor? Interceptor => Process.Interceptor;

    /// <summary>
    /// Replaces <paramref name="functions"/> (by name, in order of preference among aliases) in every
    /// module the guest maps: their entries run as C# handlers. The interceptor also redirects
    /// routines to guest-side replacements and keeps the module map. Call from <see cref="Tool.Attach"/>.
    /// </summary>
    public FunctionInterceptor ReplaceFunctions(IEnumerable<InterceptedFunction> functions) =>
        Process.Interceptor = new FunctionInterceptor(functions);

    /// <summary>Maps a library of the tool's own into the guest's code window (guest code the tool redirects to), recorded as the guest's mapping.</summary>
    public MappedImage MapLibrary(ElfImage library)
    {
        MappedImage mapped = ProgramLoader.MapLibrary(library, window);
        recordImage(Process.Mappings, mapped);
        return mapped;
    }
}
