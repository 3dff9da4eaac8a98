using Checker.Reports;

namespace Checker.Tests.Reports;

/// <summary>Records shaped like what detection emits, for the report tests.</summary>
internal static class ReportSamples
{
    public const string Exe = "/abs/x";

    public static ReportFrame Frame(ulong pc, string function, int line, string file = "/abs/x.c") =>
        new(pc, Exe, pc & 0xffff, function, file, line);

    public static ReportFrame[] Stack(params ulong[] pcs) =>
        pcs.Select((pc, i) => Frame(pc, i == 0 ? "main" : $"caller{i}", 7 + i)).ToArray();

    public static ErrorRecord Unaddressable(params ulong[] pcs) => new(
        ErrorKind.Unaddressable,
        "writing 1 byte(s) at 0x5000a 0 byte(s) beyond a 10-byte block",
        Thread: 4242,
        Stack: Stack(pcs),
        Detail: "beyond heap bounds",
        Access: new AccessInfo(AccessType.Write, 0x5000a, 1),
        Block: new BlockInfo(0x50000, 10, BlockState.Allocated,
            [new ReportFrame(0x7f0000098942, "/lib/libc.so.6", 0x98942, "malloc", SymbolOffset: 0x12), Frame(0x555555555140, "main", 5)]));

    public static ErrorRecord Leak(ulong bytes, params ulong[] pcs) => new(
        ErrorKind.Leak,
        $"{bytes} direct bytes in 1 block",
        Thread: 4242,
        Stack: Stack(pcs),
        Leak: new LeakInfo(bytes, 1, Indirect: false, IndirectBytes: 0));
}
