using System.Text;
using System.Xml;

namespace Checker.Reports.Xml;

/// <summary>
/// Text as XML 1.0 may hold it. XmlWriter escapes &amp;, &lt; and &gt;, but a character XML cannot
/// hold at all (a control character in a file name or argument, a lone surrogate) would make it
/// throw, or the document ill-formed: each becomes U+FFFD, so the report is always written.
/// </summary>
internal static class XmlCharacters
{
    public static string Clean(string text)
    {
        int first = FirstInvalid(text);
        if (first < 0) return text;
        var clean = new StringBuilder(text.Length);
        clean.Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            if (i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], text[i]))
            {
                clean.Append(text, i, 2);
                i++;
            }
            else
            {
                clean.Append(XmlConvert.IsXmlChar(text[i]) ? text[i] : '\uFFFD');
            }
        }
        return clean.ToString();
    }

    private static int FirstInvalid(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (XmlConvert.IsXmlChar(text[i])) continue;
            if (i + 1 < text.Length && XmlConvert.IsXmlSurrogatePair(text[i + 1], text[i]))
            {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }
}
