using System.Reflection;

namespace Checker.Reports.Html;

/// <summary>
/// The page's stylesheet and script, kept as real .css/.js files (Html/report.css, report.js) and
/// embedded in the assembly (NativeAOT keeps manifest resources), inlined into every page.
/// </summary>
internal static class HtmlAssets
{
    public static string Stylesheet { get; } = Read("Checker.Reports.Html.report.css");

    public static string Script { get; } = Read("Checker.Reports.Html.report.js");

    private static string Read(string name)
    {
        using Stream stream = typeof(HtmlAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} is not in {typeof(HtmlAssets).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        string text = reader.ReadToEnd();
        // Inlined into <style>/<script>: a closing tag in them would end the element early.
        if (text.Contains("</", StringComparison.Ordinal)) throw new InvalidOperationException($"resource {name} contains \"</\"");
        return text;
    }
}
