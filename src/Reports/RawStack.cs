namespace Checker.Reports;

/// <summary>
/// A stack as detection captured it, before any symbol is looked up: pcs innermost first, the
/// first one the instruction itself when <see cref="InnermostIsExact"/> (else a return address).
/// An error's identity in <see cref="ErrorCollector"/> (its kind and top physical frames after
/// symbolizing and cutting below main) follows from its kind and raw stack alone, so a repeat can
/// be counted without symbolizing it again (<see cref="ErrorCollector.TryAddRepeat"/>).
/// </summary>
/// <param name="Pcs">Not modified by the collector, which keeps a reference (captured stacks are interned and immutable).</param>
public readonly record struct RawStack(ulong[] Pcs, bool InnermostIsExact);
