using Xunit;

namespace Checker.Tests.EndToEnd;

/// <summary>A fact that is skipped only when /proc/cpuinfo does not list avx512f.</summary>
public sealed class Avx512FactAttribute : FactAttribute
{
    private static readonly Lazy<bool> _hasAvx512F = new(() =>
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .Where(l => l.StartsWith("flags", StringComparison.Ordinal))
                .Any(l => l.Split([' ', '\t', ':'], StringSplitOptions.RemoveEmptyEntries).Contains("avx512f"));
        }
        catch (IOException)
        {
            return false;
        }
    });

    public Avx512FactAttribute()
    {
        if (!_hasAvx512F.Value)
            Skip = "this CPU does not have avx512f (per /proc/cpuinfo)";
    }
}
