// Mismatched allocation families: new[] released with delete, malloc released with delete[].
#include <cstdio>
#include <cstdlib>

int main()
{
    int *array = new int[4]; // LINE_NEW_ARRAY
    delete array; // LINE_DELETE
    int *raw = static_cast<int *>(std::malloc(8));
    delete[] raw; // LINE_DELETE_ARRAY
    std::puts("done");
    return 0;
}
