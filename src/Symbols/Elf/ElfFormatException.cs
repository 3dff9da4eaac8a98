namespace Checker.Symbols.Elf;

/// <summary>
/// A file that is not a loadable x86-64 ELF image. The message is one line meant for the user
/// (callers prefix the program's name; it never includes a stack trace).
/// </summary>
public sealed class ElfFormatException(string message) : Exception(message);
