// Heap overflows inside C++ functions of every naming kind: a static function in a namespace (no
// DW_AT_linkage_name in DWARF), a method and a static method of a class in that namespace, a
// function in an anonymous namespace nested in it, and a file-scope static function. Each report's
// innermost frame must keep its namespace and class. ns::inlined is always inlined (into ns::C::s):
// its frame is named from DWARF alone. The block goes through a volatile pointer so -O2 keeps it.
#include <cstdio>
#include <cstdlib>

namespace ns {

__attribute__((noinline)) static int f(int *p)
{
    return p[10]; // LINE_NS_F
}

class C {
public:
    int m(int *p);
    static int s(int *p);
};

__attribute__((noinline)) int C::m(int *p)
{
    return f(p) + p[11]; // LINE_NS_C_M
}

__attribute__((always_inline)) static inline int inlined(int *p)
{
    return p[15]; // LINE_NS_INLINED
}

__attribute__((noinline)) int C::s(int *p)
{
    return p[12] + inlined(p); // LINE_NS_C_S
}

namespace {
__attribute__((noinline)) int hidden(int *p)
{
    return p[13]; // LINE_NS_ANON
}
}

} // namespace ns

__attribute__((noinline)) static int file_static(int *p)
{
    return p[14]; // LINE_FILE_STATIC
}

int main()
{
    static int *volatile block;
    block = static_cast<int *>(std::malloc(10 * sizeof(int))); // LINE_ALLOC
    int *p = block;
    ns::C c;
    int r = c.m(p); // LINE_MAIN_M
    r += ns::C::s(p);
    r += ns::hidden(p);
    r += file_static(p);
    std::free(p);
    static volatile int sink;
    sink = r;
    std::puts("done");
    return 0;
}
