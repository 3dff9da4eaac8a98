namespace Checker.Tests.EndToEnd;

/// <summary>
/// One temporary directory per test run for compiled cases and generated inputs; removed when
/// the test process exits.
/// </summary>
public static class Scratch
{
    private static readonly Lazy<string> _root = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("checker-e2e-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return dir;
    });

    private static int _counter;

    public static string Root => _root.Value;

    /// <summary>A new, empty directory under the run's scratch directory.</summary>
    public static string NewDirectory(string name)
    {
        var path = Path.Combine(Root, $"{name}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(path);
        return path;
    }
}
