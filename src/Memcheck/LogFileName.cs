using System.Globalization;
using System.Text;

namespace Checker.Memcheck;

/// <summary>
/// Valgrind's file-name escapes for <c>--log-file</c>: <c>%p</c> is the pid, <c>%q{VAR}</c> the
/// value of environment variable VAR (empty when unset), <c>%%</c> a percent sign.
/// </summary>
public static class LogFileName
{
    /// <summary>The name <paramref name="template"/> gives for process <paramref name="pid"/>.</summary>
    public static string Expand(string template, int pid)
    {
        var name = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] != '%' || i + 1 == template.Length) { name.Append(template[i]); continue; }
            char code = template[++i];
            if (code == 'p') name.Append(pid.ToString(CultureInfo.InvariantCulture));
            else if (code == '%') name.Append('%');
            else if (code == 'q' && i + 1 < template.Length && template[i + 1] == '{' && template.IndexOf('}', i + 2) is int close and > 0)
            {
                name.Append(Environment.GetEnvironmentVariable(template[(i + 2)..close]) ?? "");
                i = close;
            }
            else name.Append('%').Append(code);
        }
        return name.ToString();
    }

    /// <summary>Whether each process gets its own file (the name holds the pid).</summary>
    public static bool NamesProcess(string template) => template.Contains("%p", StringComparison.Ordinal);
}
