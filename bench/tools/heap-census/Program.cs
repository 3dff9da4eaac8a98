using System.Diagnostics;
using System.Globalization;
using Graphs;

// The live managed objects of a memcheck process by type: a NativeAOT heap dump names its types
// only by their MethodTable's address, so the addresses are looked up among the binary's symbols
// (memcheck.dbg: "_ZTV<len><type name>" at each MethodTable).
//
// usage: HeapCensus DUMP.gcdump MEMCHECK.dbg [TOP]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: HeapCensus DUMP.gcdump MEMCHECK.dbg [TOP]");
    return 2;
}
int top = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 30;
Dictionary<ulong, string> names = MethodTableNames(args[1]);

MemoryGraph graph = new GCHeapDump(args[0]).MemoryGraph;
Node node = graph.AllocNodeStorage();
NodeType type = graph.AllocTypeNodeStorage();
var byType = new Dictionary<string, (long Count, long Bytes, long Largest)>();
long total = 0, objects = 0;
for (NodeIndex i = 0; i < graph.NodeIndexLimit; i++)
{
    graph.GetNode(i, node);
    if (node.Size == 0) continue;
    graph.GetType(node.TypeIndex, type);
    string name = TypeName(type.Name, names);
    byType.TryGetValue(name, out var entry);
    byType[name] = (entry.Count + 1, entry.Bytes + node.Size, Math.Max(entry.Largest, node.Size));
    total += node.Size;
    objects++;
}
Console.WriteLine($"{total / 1e6,9:F1} MB in {objects} live objects");
Console.WriteLine($"{"MB",9} {"share",6} {"objects",9} {"largest",9}  type");
foreach (var (name, e) in byType.OrderByDescending(kv => kv.Value.Bytes).Take(top).Select(kv => (kv.Key, kv.Value)))
    Console.WriteLine($"{e.Bytes / 1e6,9:F2} {100.0 * e.Bytes / total,5:F1}% {e.Count,9} {e.Largest,9}  {name}");
return 0;

// "TypeID(0xa53da0)" -> the symbol's name, prefixes shortened.
static string TypeName(string raw, Dictionary<ulong, string> names)
{
    const string Prefix = "TypeID(0x";
    if (raw.StartsWith(Prefix, StringComparison.Ordinal)
        && ulong.TryParse(raw.AsSpan(Prefix.Length, raw.Length - Prefix.Length - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong address)
        && names.TryGetValue(address, out string? name))
        return name;
    return raw;
}

// MethodTable symbols of the binary: "_ZTV<length><name>" (nm's address column is the link-time one,
// which is the run's when the dump's ids are link-time addresses, as they are for memcheck).
static Dictionary<ulong, string> MethodTableNames(string binary)
{
    var names = new Dictionary<ulong, string>();
    var nm = Process.Start(new ProcessStartInfo("nm", [binary]) { RedirectStandardOutput = true })!;
    while (nm.StandardOutput.ReadLine() is string line)
    {
        string[] parts = line.Split(' ', 3);
        if (parts.Length < 3 || !parts[2].StartsWith("_ZTV", StringComparison.Ordinal)) continue;
        string symbol = parts[2][4..];
        int digits = 0;
        while (digits < symbol.Length && char.IsAsciiDigit(symbol[digits])) digits++;
        string name = symbol[digits..]
            .Replace("Checker_MemcheckTool_Checker_MemcheckTool_", "MemcheckTool.")
            .Replace("Checker_Engine_Checker_Engine_", "Engine.")
            .Replace("Checker_Symbols_Checker_Symbols_", "Symbols.")
            .Replace("Checker_Reports_Checker_Reports_", "Reports.")
            .Replace("S_P_CoreLib_System_", "System.");
        names[ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = name;
    }
    nm.WaitForExit();
    return names;
}
