namespace Checker.Tests.Elf;

/// <summary>The test programs compiled once per test class: static, static-pie and a relocatable object.</summary>
public sealed class CompiledBinaries : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        int counter = 3;
        int main(int argc, char **argv) { printf("%d %s\n", argc + counter, argv[0]); return 0; }
        """;

    private readonly CCompiler _compiler = new();
    private readonly Lazy<string> _static;
    private readonly Lazy<string> _staticPie;
    private readonly Lazy<string> _object;

    public CompiledBinaries()
    {
        _static = new(() => _compiler.Compile("static", Source, "-static", "-O1"));
        _staticPie = new(() => _compiler.Compile("static-pie", Source, "-static-pie", "-O1"));
        _object = new(() => _compiler.Compile("object.o", Source, "-c", "-O1"));
    }

    public string Static => _static.Value;

    public string StaticPie => _staticPie.Value;

    public string RelocatableObject => _object.Value;

    /// <summary>A path next to the compiled programs for a derived (patched, truncated) file.</summary>
    public string PathFor(string name) => _compiler.PathFor(name);

    public void Dispose() => _compiler.Dispose();
}
