namespace Checker.Reports.Suppressions;

/// <summary>What one location line of a suppression matches.</summary>
public enum SuppressionFrameType
{
    /// <summary><c>fun:NAME</c>: the frame's function (mangled or demangled), <c>???</c> when it has none.</summary>
    Function,
    /// <summary><c>obj:PATH</c>: the frame's module as loaded, <c>???</c> outside any module.</summary>
    Object,
    /// <summary><c>src:FILE</c> or <c>src:FILE:LINE</c>: the frame's source file name (and line).</summary>
    Source,
    /// <summary><c>...</c>: any number of frames, none included.</summary>
    AnyFrames,
}

/// <summary>One location line of a suppression.</summary>
/// <param name="Pattern">The name after <c>fun:</c>, <c>obj:</c> or <c>src:</c> (with <c>*</c> and <c>?</c>); null for <c>...</c>.</param>
/// <param name="Line">For <c>src:FILE:LINE</c>, the line; 0 for any line.</param>
public sealed record SuppressionFrame(SuppressionFrameType Type, string? Pattern = null, int Line = 0)
{
    /// <summary>The frame as written in a suppression file.</summary>
    public override string ToString() => Type switch
    {
        SuppressionFrameType.Function => "fun:" + Pattern,
        SuppressionFrameType.Object => "obj:" + Pattern,
        SuppressionFrameType.Source => Line > 0 ? $"src:{Pattern}:{Line}" : "src:" + Pattern,
        _ => "...",
    };
}
