using System.Text;

namespace Checker.Reports.Html;

/// <summary>How the page shows one kind: its color, and a short plain-words title.</summary>
/// <param name="Kind">The kind (rows are in enum order).</param>
/// <param name="Color">Its accent, dark enough for text on white (WCAG AA); the stylesheet mixes tints and dark-mode shades from it.</param>
/// <param name="Title">The section title: what a reader calls these errors.</param>
internal sealed record HtmlKindStyle(ErrorKind Kind, string Color, string Title);

/// <summary>The page's per-kind look: one row per kind, the stylesheet's kind classes generated from it.</summary>
internal static class HtmlKindStyles
{
    private static readonly HtmlKindStyle[] Table =
    [
        new(ErrorKind.Unaddressable,       "#c0262d", "Unaddressable accesses"),
        new(ErrorKind.Uninitialized,       "#b3470b", "Uses of uninitialized values"),
        new(ErrorKind.InvalidHeapArgument, "#7d3fc8", "Invalid heap arguments"),
        new(ErrorKind.Leak,                "#1560bd", "Leaks"),
        new(ErrorKind.PossibleLeak,        "#0f7285", "Possible leaks"),
        new(ErrorKind.Overlap,             "#b0286e", "Overlapping copies"),
        new(ErrorKind.FishyArgument,       "#8a6100", "Fishy arguments"),
    ];

    static HtmlKindStyles()
    {
        // Permanently engaged, as ErrorKinds': a row out of order would color a kind as another.
        for (int i = 0; i < Table.Length; i++)
        {
            if ((int)Table[i].Kind != i) throw new InvalidOperationException($"HtmlKindStyles row {i} is {Table[i].Kind}");
        }
        if (Table.Length != ErrorKinds.All.Count) throw new InvalidOperationException("HtmlKindStyles misses a kind");
    }

    public static HtmlKindStyle Style(this ErrorKind kind) => Table[(int)kind];

    /// <summary>The CSS class of a kind: <c>k-unaddressable</c>, from its JSON name.</summary>
    public static string CssClass(this ErrorKind kind) => "k-" + kind.JsonName();

    /// <summary>The section anchor of a kind: <c>kind-leak</c>.</summary>
    public static string Anchor(this ErrorKind kind) => "kind-" + kind.JsonName();

    /// <summary>One rule per kind setting the custom property the stylesheet colors with (--k).</summary>
    public static string Css()
    {
        var css = new StringBuilder();
        foreach (HtmlKindStyle row in Table)
            css.Append('.').Append(row.Kind.CssClass()).Append("{--k:").Append(row.Color).Append("}\n");
        return css.ToString();
    }
}
