// cxx_bad_alloc [uncaught]: operator new and new[] that cannot allocate throw std::bad_alloc (the
// replaced allocator must not return NULL from a throwing new), the nothrow forms return NULL, and
// an uncaught bad_alloc terminates the program (SIGABRT) as natively.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

int main(int argc, char **argv)
{
    // 2^62 bytes: not a "fishy" (negative) size, just more than any machine has.
    volatile size_t huge = (size_t)1 << 62;
    if (argc > 1 && std::strcmp(argv[1], "uncaught") == 0) {
        char *p = new char[huge];
        std::printf("unreachable %p\n", (void *)p);
        return 0;
    }
    try {
        char *p = new char[huge];
        std::printf("new[] returned %p\n", (void *)p);
    } catch (const std::bad_alloc &) {
        std::printf("new[]: bad_alloc\n");
    }
    try {
        void *q = operator new(huge);
        std::printf("new returned %p\n", q);
    } catch (const std::bad_alloc &) {
        std::printf("new: bad_alloc\n");
    }
    try {
        void *a = operator new(huge, std::align_val_t(64));
        std::printf("aligned new returned %p\n", a);
    } catch (const std::bad_alloc &) {
        std::printf("aligned new: bad_alloc\n");
    }
    char *n = new (std::nothrow) char[huge];
    std::printf("nothrow new[]: %s\n", n == nullptr ? "null" : "not null");
    char *small = new char[16];
    small[0] = 'x';
    std::printf("then a small new works: %c\n", small[0]);
    delete[] small;
    return 0;
}
