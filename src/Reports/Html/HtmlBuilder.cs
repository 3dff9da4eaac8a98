using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Checker.Reports.Html;

/// <summary>A piece of markup this writer built itself, inserted as is (every other value is encoded).</summary>
internal readonly record struct Markup(string Value);

/// <summary>
/// The page being written. Everything goes through <see cref="Add"/>'s interpolated strings, whose
/// literal parts are markup and whose holes are encoded unless they are <see cref="Markup"/>: a
/// string from the program (file, function, message, source line, argument) cannot reach the page
/// unencoded by forgetting a call.
/// </summary>
internal sealed class HtmlBuilder
{
    private readonly StringBuilder _text = new(64 * 1024);

    public HtmlBuilder Add([InterpolatedStringHandlerArgument("")] ref HtmlInterpolation html) => this;

    /// <summary>Markup of this writer's own (the stylesheet, the script, fixed tags).</summary>
    public HtmlBuilder Raw(string markup)
    {
        _text.Append(markup);
        return this;
    }

    /// <summary>Text, encoded.</summary>
    public HtmlBuilder Text(string? text)
    {
        Encode(text);
        return this;
    }

    public override string ToString() => _text.ToString();

    /// <summary>
    /// Encodes for text and for quoted attribute values alike: &amp; &lt; &gt; " '. Control
    /// characters other than tab and newline (a NUL in a name, an escape in a message) become U+FFFD,
    /// which HTML does not allow as written.
    /// </summary>
    internal void Encode(string? text)
    {
        if (text is null) return;
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': _text.Append("&amp;"); break;
                case '<': _text.Append("&lt;"); break;
                case '>': _text.Append("&gt;"); break;
                case '"': _text.Append("&quot;"); break;
                case '\'': _text.Append("&#39;"); break;
                case '\t' or '\n': _text.Append(c); break;
                case < ' ' or '\x7f': _text.Append('\uFFFD'); break;
                default: _text.Append(c); break;
            }
        }
    }

    /// <summary>Encodes <paramref name="text"/> into a string (for tests and attribute values built apart).</summary>
    public static string Encoded(string? text)
    {
        var builder = new HtmlBuilder();
        builder.Encode(text);
        return builder.ToString();
    }
}

/// <summary>The interpolated-string handler of <see cref="HtmlBuilder.Add"/>: literals raw, holes encoded.</summary>
[InterpolatedStringHandler]
internal ref struct HtmlInterpolation
{
    private readonly HtmlBuilder _builder;

    public HtmlInterpolation(int literalLength, int formattedCount, HtmlBuilder builder) => _builder = builder;

    public void AppendLiteral(string literal) => _builder.Raw(literal);

    public void AppendFormatted(Markup markup) => _builder.Raw(markup.Value);

    public void AppendFormatted(string? text) => _builder.Encode(text);

    public void AppendFormatted<T>(T value) =>
        _builder.Encode(value is IFormattable formattable ? formattable.ToString(null, CultureInfo.InvariantCulture) : value?.ToString());

    public void AppendFormatted<T>(T value, string format) where T : IFormattable =>
        _builder.Encode(value.ToString(format, CultureInfo.InvariantCulture));
}
