using System.Globalization;
using Checker.Symbols.Elf;
using Checker.Symbols.Symbolization;
using Checker.Symbols.Unwinding;
using Checker.Tests.Elf;
using Checker.Tests.Symbols;
using Xunit;

namespace Checker.Tests.Unwinding;

/// <summary>
/// Real stacks: a C program is stopped by gdb (batch mode) in <c>capture</c>, reached through
/// main, f1..f5 (noinline); gdb prints the registers, the mappings and its own backtrace, and
/// dumps the stack from rsp to the stack's end. The walker runs over that dump (a
/// <see cref="FakeMemory"/>) with the real modules' CFI, and its frames must be gdb's and
/// symbolize (ModuleSymbolizer, at pc - 1 for return addresses) to capture f5 f4 f3 f2 f1 main.
/// </summary>
public class GdbUnwindTests : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        volatile int sink;
        __attribute__((noinline)) void leaf(void) { sink++; }
        /* Not a leaf, so that -fno-omit-frame-pointer gives it a frame (gdb stops at its entry). */
        __attribute__((noinline)) void capture(void) { leaf(); sink++; }
        __attribute__((noinline)) int f5(int x) { capture(); return x * 3 + sink; }
        __attribute__((noinline)) int f4(int x) { return f5(x + 1) * 2 + 1; }
        __attribute__((noinline)) int f3(int x) { return f4(x ^ 5) + 7; }
        __attribute__((noinline)) int f2(int x) { return f3(x - 2) * 5; }
        __attribute__((noinline)) int f1(int x) { return f2(x + 9) - 1; }
        int main(int argc, char **argv) { printf("%d\n", f1(argc)); return 0; }
        """;

    private static readonly string[] Expected = ["capture", "f5", "f4", "f3", "f2", "f1", "main"];

    // Runs in gdb at the breakpoint: everything the test needs, in lines it can parse.
    private const string Script = """
        import gdb
        frame = gdb.selected_frame()
        for name in ("rip", "rsp", "rbp"):
            print("REG %s 0x%x" % (name, int(frame.read_register(name)) & 0xffffffffffffffff))
        f = frame
        while f is not None:
            print("BT 0x%x" % f.pc())
            f = f.older()
        for line in gdb.execute("info proc mappings", to_string=True).splitlines():
            parts = line.split()
            if len(parts) >= 6 and parts[0].startswith("0x"):
                print("MAP %s %s %s %s" % (parts[0], parts[1], parts[3], parts[5]))
                if parts[5] == "[stack]":
                    gdb.execute("dump binary memory %s $rsp %s" % (OUTPUT, parts[1]))
                    print("STACK 0x%x %s" % (int(frame.read_register("rsp")) & 0xffffffffffffffff, parts[1]))
        """;

    private readonly CCompiler _compiler = new();

    [Fact]
    public void OmittedFramePointers_Cfi() => Check("omit", ["-O2", "-g", "-fomit-frame-pointer"], expectFramePointer: false);

    [Fact]
    public void FramePointers_Cfi() => Check("keep", ["-O2", "-g", "-fno-omit-frame-pointer"], expectFramePointer: false);

    [Fact]
    public void FramePointersWithoutEhFrame_FramePointerChain() =>
        Check("nocfi", ["-O2", "-g", "-fno-omit-frame-pointer", "-fno-asynchronous-unwind-tables", "-fno-unwind-tables"],
            expectFramePointer: true);

    private void Check(string name, string[] flags, bool expectFramePointer)
    {
        string program = _compiler.Compile(name, Source, flags);
        string dump = _compiler.PathFor(name + ".stack");
        string script = _compiler.PathFor(name + ".py");
        File.WriteAllText(script, $"OUTPUT = {Quote(dump)}\n" + Script);
        string output = SymbolTools.Run(Path.GetDirectoryName(program)!, "gdb",
            "-batch", "-nx", "-ex", "set startup-with-shell off", "-ex", "break capture", "-ex", "run", "-ex", $"source {script}", program);

        var registers = new Dictionary<string, ulong>();
        var gdbPcs = new List<ulong>();
        var maps = new List<(ulong Start, ulong End, ulong Offset, string Path)>();
        ulong? stackStart = null;
        foreach (string line in output.Split('\n'))
        {
            string[] p = line.Trim().Split(' ');
            switch (p[0])
            {
                case "REG": registers[p[1]] = Hex(p[2]); break;
                case "BT": gdbPcs.Add(Hex(p[1])); break;
                case "MAP": maps.Add((Hex(p[1]), Hex(p[2]), Hex(p[3]), p[4])); break;
                case "STACK": stackStart = Hex(p[1]); break;
            }
        }
        Assert.True(stackStart != null && registers.Count == 3, "gdb did not stop in capture:\n" + output);

        // The stack as gdb dumped it, and the code as mapped from the files (the fallbacks read instructions).
        var memory = new FakeMemory().Add(stackStart!.Value, File.ReadAllBytes(dump));
        foreach (var mapping in maps.Where(m => m.Path.StartsWith('/')))
        {
            byte[] file = File.ReadAllBytes(mapping.Path);
            int length = (int)Math.Min(mapping.End - mapping.Start, (ulong)Math.Max(0, file.Length - (long)mapping.Offset));
            if (length > 0) memory.Add(mapping.Start, file.AsSpan((int)mapping.Offset, length).ToArray());
        }
        var modules = maps.Where(m => m.Path.StartsWith('/')).GroupBy(m => m.Path).Select(g =>
        {
            ulong firstMapping = g.Where(m => m.Offset == 0).Min(m => m.Start);
            ulong bias = firstMapping - ElfImage.Open(g.Key).LowestLoadAddress;
            return (Path: g.Key, Start: g.Min(m => m.Start), End: g.Max(m => m.End), Bias: bias);
        }).ToList();
        (string Path, ulong LoadBias)? Lookup(ulong pc) =>
            modules.FirstOrDefault(m => pc >= m.Start && pc < m.End) is { Path: not null } m ? (m.Path, m.Bias) : null;

        using var walker = new CallstackWalker(memory, Lookup, new CallstackWalkerOptions { StackEnd = stackStart.Value + (ulong)new FileInfo(dump).Length });
        IReadOnlyList<UnwoundFrame> frames = walker.Walk(new UnwindRegisters(registers["rip"], registers["rsp"], registers["rbp"]));
        string trace = string.Join('\n', frames);

        // gdb's backtrace stops at main; the walker goes on into libc (up to 12 frames).
        Assert.True(frames.Count > Expected.Length + 1, $"only {frames.Count} frames:\n{trace}\ngdb:\n{output}");
        Assert.Equal(gdbPcs.Take(Expected.Length), frames.Take(Expected.Length).Select(f => f.Pc));

        var symbolizers = new Dictionary<string, ModuleSymbolizer>();
        try
        {
            List<string?> names = frames.Take(Expected.Length).Select(f =>
            {
                (string path, ulong bias) = Lookup(f.LookupPc)!.Value;
                if (!symbolizers.TryGetValue(path, out ModuleSymbolizer? s)) symbolizers[path] = s = new ModuleSymbolizer(path, bias);
                return s.Symbolize(f.LookupPc)[^1].Function;
            }).ToList();
            Assert.Equal(Expected, names);
        }
        finally
        {
            foreach (ModuleSymbolizer s in symbolizers.Values) s.Dispose();
        }

        UnwindMethod expected = expectFramePointer ? UnwindMethod.FramePointer : UnwindMethod.Cfi;
        // A frame's method is how its pc was found from the frame inside it: main's caller (libc)
        // comes from main's frame; libc has .eh_frame, so the frame after it comes from CFI.
        Assert.All(frames.Skip(1).Take(Expected.Length), f => Assert.Equal(expected, f.Method));
        Assert.Equal(UnwindMethod.Cfi, frames[Expected.Length + 1].Method);
    }

    private static ulong Hex(string text) => ulong.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static string Quote(string text) => "'" + text.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    public void Dispose() => _compiler.Dispose();
}
