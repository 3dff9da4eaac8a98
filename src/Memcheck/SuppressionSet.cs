using System.Reflection;
using Checker.Reports;
using Checker.Reports.Suppressions;

namespace Checker.Memcheck;

/// <summary>
/// The suppressions of a run: memcheck's own default.supp (embedded in the binary; left out with
/// --default-suppressions=no), then each --suppressions file in the order given, as Valgrind reads
/// its default file before the user's. Read once at start, where a file that does not parse stops
/// memcheck with one line and exit 2; the report session then asks <see cref="Match"/> once per
/// distinct error.
/// </summary>
public sealed class SuppressionSet
{
    /// <summary>How the embedded file is named in messages.</summary>
    public const string DefaultFileName = "default.supp (built into memcheck)";

    private const string DefaultResource = "Checker.Memcheck.default.supp";

    private static (string Key, SuppressionSet Set)? _loaded;

    private readonly SuppressionMatcher _matcher;
    private readonly SuppressionMatcher? _defaults;
    private readonly Dictionary<string, Suppression> _byName = new();

    private SuppressionSet(IReadOnlyList<(string File, IReadOnlyList<Suppression> Suppressions)> files, int maxFrames)
    {
        Files = files.Select(f => (f.File, f.Suppressions.Count)).ToArray();
        Suppression[] all = files.SelectMany(f => f.Suppressions).ToArray();
        _matcher = new SuppressionMatcher(all, maxFrames);
        if (files.Count > 0 && files[0].File == DefaultFileName) _defaults = new SuppressionMatcher(files[0].Suppressions, maxFrames);
        foreach (Suppression suppression in all) _byName.TryAdd(suppression.Name, suppression);
    }

    /// <summary>Each file read, in order, with how many Memcheck suppressions it holds (for -v).</summary>
    public IReadOnlyList<(string File, int Count)> Files { get; }

    /// <summary>The name of the suppression that silences <paramref name="error"/>, or null.</summary>
    public string? Match(ErrorRecord error) => _matcher.Match(error)?.Name;

    /// <summary>
    /// The default suppression (default.supp, read first, so it wins as in <see cref="Match"/>) that
    /// silences <paramref name="error"/> as named from the symbol tables alone
    /// (<see cref="FrameSymbolizer.StackBySymbols"/>), or null. default.supp's entries are written to
    /// match such a stack and the full one alike, so a stack they match needs no DWARF.
    /// </summary>
    public string? MatchDefaultBySymbols(ErrorRecord error) => _defaults?.Match(error)?.Name;

    /// <summary>Where the first suppression named <paramref name="name"/> is defined (<c>FILE:LINE</c>), for -v.</summary>
    public string? Location(string name) => _byName.TryGetValue(name, out Suppression? s) ? s.Location : null;

    /// <summary>
    /// The suppressions <paramref name="settings"/> name, parsed on the first call (the check at
    /// start) and kept for the report session's. Throws <see cref="SuppressionFormatException"/>
    /// for a file that does not parse, IOException or UnauthorizedAccessException for one that cannot be read.
    /// </summary>
    public static SuppressionSet For(MemcheckSettings settings)
    {
        string key = $"{settings.DefaultSuppressions}\n{settings.CallstackMaxFrames}\n{string.Join('\n', settings.SuppressionFiles)}";
        if (_loaded is { } loaded && loaded.Key == key) return loaded.Set;
        var files = new List<(string, IReadOnlyList<Suppression>)>();
        if (settings.DefaultSuppressions) files.Add((DefaultFileName, SuppressionFile.Parse(DefaultText(), DefaultFileName)));
        foreach (string file in settings.SuppressionFiles) files.Add((file, SuppressionFile.Load(file)));
        var set = new SuppressionSet(files, settings.CallstackMaxFrames);
        _loaded = (key, set);
        return set;
    }

    /// <summary>Why the suppressions <paramref name="settings"/> name cannot be used (one line), or null when they can.</summary>
    public static string? Problem(MemcheckSettings settings)
    {
        try
        {
            For(settings);
            return null;
        }
        catch (SuppressionFormatException e)
        {
            return $"--suppressions {e.Message}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"--suppressions: {e.Message}";
        }
    }

    /// <summary>src/Memcheck/default.supp, embedded in the assembly (the NativeAOT binary carries it).</summary>
    private static string DefaultText()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"memcheck was built without its {DefaultResource} resource");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
