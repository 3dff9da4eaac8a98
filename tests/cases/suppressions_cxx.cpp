// C++ errors for the suppression tests, to be matched by mangled and demangled names: an invalid
// write in a method of a namespaced class, a leak through operator new, one through new[], and a
// block from new[] freed with delete. Exits 0; the markers name the lines.
#include <cstddef>

namespace shapes {
struct Widget {
    int *data;
    __attribute__((noinline)) void resize(std::size_t n)
    {
        data = new int[n]; // SUPPX_NEW_ARRAY
        data[n] = 1;       // SUPPX_OVERFLOW
    }
};
} // namespace shapes

__attribute__((noinline)) int *leak_new() { return new int(7); /* SUPPX_LEAK_NEW */ }

__attribute__((noinline)) void mismatched_delete()
{
    int *x = new int[2];
    delete x; // SUPPX_MISMATCH
}

int main()
{
    shapes::Widget w;
    w.resize(4);
    int *volatile lost = leak_new();
    lost = nullptr;
    w.data = nullptr;
    mismatched_delete();
    return 0;
}
