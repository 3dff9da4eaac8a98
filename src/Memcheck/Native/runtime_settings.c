/* Runs before the .NET runtime starts (an ELF constructor in the memcheck executable) and gives its
 * collector a gen0 budget of at least 6 MB. This VM's kernel reports no cache sizes, so the runtime
 * falls back to a small budget, and `memcheck -- /bin/true` paid a compacting collection (~3 ms of
 * ~35) for the 4.7 MB its start-up allocates; a larger budget costs no resident memory, since a
 * collection's survivors are copied into fresh pages too. NativeAOT reads this setting only from the
 * environment (it has no runtimeconfig name). A value the user set is kept. The guest does not see
 * it: its environment is the one memcheck was exec'd with (/proc/self/environ). */
#include <stdlib.h>

__attribute__((constructor)) static void set_collector_budget(void)
{
    setenv("DOTNET_GCgen0size", "600000", 0); /* hexadecimal, as the runtime reads it: 6 MB */
}
