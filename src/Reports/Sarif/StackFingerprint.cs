using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Checker.Reports.Sarif;

/// <summary>
/// The partial fingerprint <see cref="Key"/> of a result, so code scanning knows a result of the
/// next run (another commit, another checkout) is the same error and not a new one. It hashes the
/// rule id and the innermost <see cref="Frames"/> user-code frames: function, file (relative to
/// the working directory when inside it, so the checkout's path does not matter) and the source
/// line's text, whitespace-collapsed, so that editing lines above an error does not make it new
/// (the line number when the file cannot be read). Never addresses: they move with ASLR and with
/// every build. A stack without user code hashes its function names. Two results of one run that
/// hash alike (the same line reached the same way) are told apart by an ordinal suffix, as code
/// scanning's own line hashes are.
/// </summary>
internal sealed class StackFingerprint(SourceRoot root, SourceLines sources)
{
    /// <summary>The key in partialFingerprints; its version changes whenever the hashed text does.</summary>
    public const string Key = "memcheckStackHash/v1";

    /// <summary>How many user frames are hashed (the collector tells errors apart by as many).</summary>
    public const int Frames = ErrorCollector.DefaultIdentityFrames;

    private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);

    /// <summary>The fingerprint of the next result of this run: <c>HASH:N</c>, N counting results that hash alike.</summary>
    public string Next(string ruleId, IReadOnlyList<ReportFrame> stack)
    {
        string hash = Hash(Text(ruleId, stack));
        int ordinal = _seen.TryGetValue(hash, out int n) ? n + 1 : 1;
        _seen[hash] = ordinal;
        return hash + ":" + ordinal.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>What is hashed, one line per frame (visible for tests and debugging).</summary>
    public string Text(string ruleId, IReadOnlyList<ReportFrame> stack)
    {
        var text = new StringBuilder(ruleId).Append('\n');
        ReportFrame[] user = stack.Where(SourceRoot.IsUserCode).Take(Frames).ToArray();
        if (user.Length > 0)
        {
            foreach (ReportFrame frame in user)
            {
                string file = root.Relative(frame.File!) ?? frame.File!;
                text.Append(frame.Function ?? "??").Append('\t').Append(file).Append('\t').Append(LineText(frame.File!, frame.Line!.Value)).Append('\n');
            }
        }
        else
        {
            foreach (ReportFrame frame in stack.Take(Frames))
                text.Append(frame.Function ?? "??").Append('\t').Append(Path.GetFileName(frame.ModulePath) ?? "").Append('\n');
        }
        return text.ToString();
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 16));

    // The line's text, whitespace collapsed; "line N" when the file cannot be read or is shorter.
    private string LineText(string file, int line) =>
        sources.Line(file, line) is string text
            ? string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            : "line " + line.ToString(CultureInfo.InvariantCulture);
}
