// Input for the cc1plus workload (bench/run.sh preprocesses it once with g++ -E):
// a few lines that include much of the C++ library and instantiate its
// templates (map, vector, string, unordered_map, algorithms, iostream), so
// compiling them at -O1 runs a large part of GCC's code, as big programs do.
#include <algorithm>
#include <iostream>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

template <typename K, typename V> using Index = std::map<K, std::vector<V>>;

template <typename K, typename V> std::size_t total(const Index<K, V>& index) {
    std::size_t n = 0;
    for (const auto& [key, values] : index) n += values.size();
    return n;
}

int main() {
    Index<std::string, int> index;
    std::unordered_map<int, std::string> names{{1, "one"}, {2, "two"}};
    for (const char* w : {"a", "b", "a", "c"}) index[w].push_back(static_cast<int>(index.size()));
    std::vector<int> sizes;
    std::transform(index.begin(), index.end(), std::back_inserter(sizes),
                   [](const auto& kv) { return static_cast<int>(kv.second.size()); });
    std::sort(sizes.begin(), sizes.end(), std::greater<>());
    std::cout << total(index) << ' ' << names.size() << ' ' << sizes.front() << '\n';
}
