namespace Checker.MemcheckTool.Heap;

/// <summary>Which family allocated a block, so a free by the wrong family is reported as a mismatch.</summary>
public enum AllocationKind { Malloc, New, NewArray }
