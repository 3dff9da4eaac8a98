using System.Runtime.Versioning;

// The shadow is a Linux mmap reservation sized for the x86-64 47-bit user address space.
[assembly: SupportedOSPlatform("linux")]
