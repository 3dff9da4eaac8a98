using System.Text;

namespace Checker.Tests.EndToEnd;

/// <summary>Deterministic generated inputs (fixed seeds) for the system-program tests.</summary>
public static class TestData
{
    private static readonly string[] _syllables =
        ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "xe", "zo", "bra", "qui", "st", "ph", "ong", "ell"];

    public static readonly string[] Categories =
        ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];

    /// <summary>About <paramref name="targetBytes"/> bytes of lines "word number word,word".</summary>
    public static byte[] RandomLines(int seed, int targetBytes)
    {
        var random = new Random(seed);
        var sb = new StringBuilder(targetBytes + 100);
        while (sb.Length < targetBytes)
        {
            sb.Append(Word(random)).Append(' ')
              .Append(random.Next(0, 1_000_000)).Append(' ')
              .Append(Word(random)).Append(',').Append(Word(random))
              .Append('\n');
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>Lines "name category amount" for the awk test.</summary>
    public static byte[] AwkRecords(int seed, int count)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            sb.Append(Word(random)).Append(' ')
              .Append(Categories[random.Next(Categories.Length)]).Append(' ')
              .Append(random.Next(1, 10_000)).Append('\n');
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    /// <summary>Compressible but not trivial bytes: text runs mixed with random binary.</summary>
    public static byte[] CompressibleBytes(int seed, int length)
    {
        var random = new Random(seed);
        var data = new byte[length];
        int i = 0;
        while (i < length)
        {
            if (random.Next(4) == 0)
            {
                int n = Math.Min(length - i, random.Next(1, 64));
                random.NextBytes(data.AsSpan(i, n));
                i += n;
            }
            else
            {
                var word = Encoding.ASCII.GetBytes(Word(random) + " ");
                int n = Math.Min(length - i, word.Length);
                word.AsSpan(0, n).CopyTo(data.AsSpan(i));
                i += n;
            }
        }
        return data;
    }

    /// <summary>A small directory tree with fixed contents and fixed modification times.</summary>
    public static void WriteTree(string root, int seed)
    {
        var random = new Random(seed);
        var fixedTime = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var directories = new List<string> { root };
        foreach (var sub in new[] { "docs", "src", "src/lib", "src/lib/deep", "empty" })
        {
            var path = Path.Combine(root, sub);
            Directory.CreateDirectory(path);
            directories.Add(path);
        }
        for (int i = 0; i < 24; i++)
        {
            var dir = directories[random.Next(directories.Count - 1)]; // never in "empty"
            var file = Path.Combine(dir, $"file{i:D2}_{Word(random)}.txt");
            var size = i == 0 ? 0 : random.Next(0, 20_000);
            File.WriteAllBytes(file, CompressibleBytes(seed + i, size));
            File.SetLastWriteTimeUtc(file, fixedTime.AddMinutes(i));
        }
        var executable = Path.Combine(root, "src", "run.sh");
        File.WriteAllText(executable, "#!/bin/sh\necho run\n");
        File.SetUnixFileMode(executable,
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.SetLastWriteTimeUtc(executable, fixedTime);
        File.CreateSymbolicLink(Path.Combine(root, "docs", "link-to-run"), "../src/run.sh");
        foreach (var dir in directories.AsEnumerable().Reverse())
            Directory.SetLastWriteTimeUtc(dir, fixedTime);
    }

    private static string Word(Random random)
    {
        int parts = random.Next(1, 4);
        var sb = new StringBuilder();
        for (int p = 0; p < parts; p++)
            sb.Append(_syllables[random.Next(_syllables.Length)]);
        return sb.ToString();
    }
}
