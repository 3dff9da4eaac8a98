using System.Text;
using Checker.Memcheck;
using Xunit;

namespace Checker.Tests.Cli;

/// <summary>
/// The <c>#!</c> line as the kernel's binfmt_script reads it from a file's first 256 bytes (each
/// case checked against Linux 6.x: a script with that line run natively, its argv printed).
/// </summary>
public class ScriptLineTests
{
    private static (string Name, string? Argument)? Parse(string header) => ScriptInterpreter.ParseLine(Encoding.UTF8.GetBytes(header));

    [Theory]
    [InlineData("#!/bin/sh\necho\n", "/bin/sh", null)]
    [InlineData("#! \t/bin/sh -e \t\nrest", "/bin/sh", "-e")]
    // Everything after the name is one argument, inner spaces kept.
    [InlineData("#!/usr/bin/env python3 -u  -x\n", "/usr/bin/env", "python3 -u  -x")]
    [InlineData("#!/bin/sh\t-x\n", "/bin/sh", "-x")]
    // A carriage return is part of the name ("bad interpreter" natively).
    [InlineData("#!/bin/sh\r\n", "/bin/sh\r", null)]
    // No newline: the file's end (NUL padding) ends the line.
    [InlineData("#!/bin/interp -z", "/bin/interp", "-z")]
    // A NUL ends the name, and there is no argument after it.
    [InlineData("#!/bin/interp\0 -q\n", "/bin/interp", null)]
    // Nothing after "#!" in the file: an empty name (open_exec("") fails with EACCES natively).
    [InlineData("#!", "", null)]
    public void NameAndArgument(string header, string name, string? argument)
    {
        Assert.Equal((name, argument), Parse(header));
    }

    [Theory]
    [InlineData("#!\n")]
    [InlineData("#!   \t \n")]
    public void NoInterpreterIsRefused(string header)
    {
        Assert.Null(Parse(header));
    }

    [Fact]
    public void ANameCutByTheBufferIsRefusedButALongArgumentIsCut()
    {
        // The name runs past byte 256 with no space: it may be truncated, ENOEXEC.
        Assert.Null(Parse("#!/" + new string('a', 300) + "\n"));
        // The argument is cut at byte 255: 237 of 300 x's after an 18-byte "#!/tmp/scr/interp ".
        Assert.Equal(("/tmp/scr/interp", new string('x', 237)), Parse("#!/tmp/scr/interp " + new string('x', 300) + "\n"));
    }
}
