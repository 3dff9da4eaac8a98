// A fishy size (a negative number as size_t) given to operator new[], the last thing the program
// does: Valgrind, which cannot throw std::bad_alloc, aborts the program there. Exits 0 when new[]
// throws as it should.
#include <cstddef>
#include <new>

int main()
{
    volatile std::size_t n = static_cast<std::size_t>(-8);
    try {
        char *p = new char[n]; // SUPPF_NEW
        delete[] p;
    } catch (const std::bad_alloc &) {
        return 0;
    }
    return 1;
}
