using System.Runtime.Versioning;

// The engine runs x86-64 Linux programs inside its own process: it is Linux-only by nature.
[assembly: SupportedOSPlatform("linux")]
