// C++ allocation-heavy workload: many small, short-lived objects in the
// standard containers, as parsers, compilers and servers make them. Node-based
// std::map and std::unordered_map with std::string keys (short ones inside the
// string, longer ones on the heap), small growing std::vectors, temporary
// strings and token lists; inserts, erases and lookups in a fixed pseudo-random
// order. Prints counts and a checksum (the same on every run).
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

static uint64_t next(uint64_t& s) { // xorshift64: deterministic, no libc rand state
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

// The key for v: "key-<v>" plus 0-22 letters, so about half the keys are
// longer than the 15 characters a std::string holds inline.
static std::string key(uint64_t v) {
    std::string k = "key-" + std::to_string(v);
    k.append(v % 23, static_cast<char>('a' + v % 26));
    return k;
}

// Splits "a,b,c" into a fresh vector of fresh strings (more small blocks).
static std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::string::size_type start = 0, end;
    while ((end = s.find(sep, start)) != std::string::npos) {
        parts.emplace_back(s, start, end - start);
        start = end + 1;
    }
    parts.emplace_back(s, start);
    return parts;
}

int main() {
    uint64_t seed = 88172645463325252ull, sum = 0;
    std::map<std::string, std::vector<uint32_t>> tree;
    std::unordered_map<std::string, std::string> hash;
    for (uint32_t i = 0; i < 400000; i++) {
        uint64_t r = next(seed);
        std::string k = key(r % 20000);
        switch ((r >> 32) % 8) {
        case 0: case 1: case 2: // insert or grow
            tree[k].push_back(i);
            break;
        case 3: // erase
            sum += tree.erase(k);
            break;
        case 4: { // lookup
            auto it = tree.find(k);
            if (it != tree.end()) sum += it->second.size() + it->second.back();
            break;
        }
        case 5: // replace a value in the hash table
            hash[k] = k + "," + std::to_string(i) + "," + key(r % 997);
            break;
        case 6: { // look up, split and drop
            auto it = hash.find(k);
            if (it != hash.end()) {
                for (const std::string& part : split(it->second, ',')) sum += part.size();
                hash.erase(it);
            }
            break;
        }
        default: { // walk a few neighbours in order
            auto it = tree.lower_bound(k);
            for (int n = 0; n < 8 && it != tree.end(); n++, ++it) sum += it->first.size();
            break;
        }
        }
    }
    uint64_t elements = 0;
    for (const auto& [name, values] : tree) elements += values.size() + name.size();
    std::printf("tree %zu keys %llu elements, hash %zu keys, checksum %llu\n", tree.size(),
                static_cast<unsigned long long>(elements), hash.size(),
                static_cast<unsigned long long>(sum));
    return 0;
}
