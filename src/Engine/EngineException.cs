namespace Checker.Engine;

/// <summary>
/// A failure of the engine itself (not of the guest): an untranslatable instruction, a mapping that
/// cannot be made. The command line prints <see cref="Exception.Message"/> as one line and exits 125.
/// </summary>
public sealed class EngineException(string message) : Exception(message);
