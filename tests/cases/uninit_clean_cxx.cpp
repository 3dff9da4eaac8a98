// C++ strings and containers whose storage is partly undefined (the small-string buffer's tail,
// a vector's capacity): copies and comparisons report nothing.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

int main()
{
    std::map<std::string, int> counts;
    std::vector<std::string> words;
    for (int i = 0; i < 300; i++) {
        std::string w(1 + i % 23, char('a' + i % 26));   // short (inline) and long (heap) strings
        words.push_back(w);
        std::string copy = w;
        counts[copy] += 1;
    }
    std::vector<int> v;
    v.reserve(100);                                      // capacity beyond size is undefined
    for (int i = 0; i < 10; i++) v.push_back(i);
    std::vector<int> v2 = v;
    long total = 0;
    for (auto &[k, n] : counts) total += (long)k.size() * n;
    for (int x : v2) total += x;
    std::printf("%zu %zu %ld\n", words.size(), counts.size(), total);
    return 0;
}
