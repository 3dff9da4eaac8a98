namespace Checker.Shadow;

/// <summary>
/// The shadow reservation could not be made or released (for example under
/// <c>vm.overcommit_memory=2</c> or a <c>ulimit -v</c>, which refuse a 32 TiB mapping).
/// </summary>
public sealed class ShadowMemoryException(string message) : Exception(message);
