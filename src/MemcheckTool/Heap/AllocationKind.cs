namespace Checker.MemcheckTool.Heap;

/// <summary>Which family allocated a block, so a free by the wrong family is reported as a mismatch.</summary>
// A byte: a block keeps it next to its routine's number in the space one int took.
public enum AllocationKind : byte { Malloc, New, NewArray }
