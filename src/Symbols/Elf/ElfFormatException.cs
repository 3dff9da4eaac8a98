namespace Checker.Symbols.Elf;

/// <summary>
/// A file that is not a loadable x86-64 ELF image. The message is one line meant for the user; it
/// never names the file itself (the caller prefixes that, once) and never includes a stack trace.
/// </summary>
public sealed class ElfFormatException(string message) : Exception(message)
{
    /// <summary>A file the image needs (its interpreter) does not exist: the shell's "not found" (127), not 126.</summary>
    public bool FileMissing { get; init; }
}
