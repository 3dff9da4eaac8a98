namespace Checker.Engine.Loading;

/// <summary>One aux vector pair (Elf64_auxv_t): an <see cref="AuxType"/> and its value.</summary>
public readonly record struct AuxEntry(ulong Type, ulong Value);
