namespace Checker.Reports;

/// <summary>The kinds of error memcheck reports. Names and texts are in <see cref="ErrorKinds"/>.</summary>
public enum ErrorKind
{
    /// <summary>An access to memory the program may not touch (heap redzones, freed blocks, beyond the stack top).</summary>
    Unaddressable,

    /// <summary>A use of undefined (never written) memory where it matters.</summary>
    Uninitialized,

    /// <summary>A heap routine called with a bad pointer: double free, not a heap block, mismatched family.</summary>
    InvalidHeapArgument,

    /// <summary>A heap block no longer reachable from any pointer.</summary>
    Leak,

    /// <summary>A heap block reachable only through pointers into its middle.</summary>
    PossibleLeak,

    /// <summary>A copy routine (memcpy, strcpy, ...) called with overlapping source and destination.</summary>
    Overlap,
    /// <summary>A heap routine called with a size or alignment that cannot be meant: negative, overflowing, not a power of two.</summary>
    FishyArgument,
}
