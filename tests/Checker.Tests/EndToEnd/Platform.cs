// The end-to-end tests (and Checker itself) are Linux-only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
