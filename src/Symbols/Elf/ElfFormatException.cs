namespace Checker.Symbols.Elf;

/// <summary>A file that is not a loadable x86-64 ELF image; the message is one line for the user.</summary>
public sealed class ElfFormatException(string message) : Exception(message);
