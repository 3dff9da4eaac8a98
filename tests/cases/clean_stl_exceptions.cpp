// Clean: an STL-heavy program with exceptions: std::vector, std::string, std::map,
// std::unordered_map, std::sort, std::shared_ptr, and exceptions thrown several frames deep,
// caught, rethrown and caught again while containers unwind. Must report nothing.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

struct Record {
    std::string name;
    std::vector<int> values;
    std::shared_ptr<std::string> note;
};

class Invalid : public std::runtime_error {
public:
    Invalid(const std::string &what, int where) : std::runtime_error(what), where_(where) {}
    int where() const { return where_; }
private:
    int where_;
};

__attribute__((noinline)) int check(const Record &r, int depth)
{
    std::vector<std::string> scratch(depth, r.name); // destroyed while unwinding
    if (depth == 0) {
        if (r.values.size() % 5 == 0) throw Invalid("bad record " + r.name, static_cast<int>(r.values.size()));
        return static_cast<int>(r.values.size());
    }
    return check(r, depth - 1) + static_cast<int>(scratch.size());
}

__attribute__((noinline)) int validate(const Record &r)
{
    try {
        return check(r, 3);
    } catch (const Invalid &) {
        if (r.name.size() % 2 == 0) throw; // rethrown to the caller
        return -1;
    }
}

} // namespace

int main()
{
    std::vector<Record> records;
    auto shared = std::make_shared<std::string>("shared note, long enough to live on the heap");
    for (int i = 0; i < 300; i++) {
        Record r;
        r.name = "record-" + std::to_string(i * 7919 % 1000);
        for (int j = 0; j < i % 17; j++) r.values.push_back(i * j % 101);
        r.note = (i % 3 == 0) ? shared : std::make_shared<std::string>(r.name + "/" + std::to_string(i));
        records.push_back(std::move(r));
    }

    std::sort(records.begin(), records.end(), [](const Record &a, const Record &b) { return a.name < b.name; });

    std::map<std::string, int> byName;
    std::unordered_map<std::string, std::vector<int>> groups;
    int valid = 0, invalid = 0, rethrown = 0;
    for (const Record &r : records) {
        byName[r.name] += std::accumulate(r.values.begin(), r.values.end(), 0);
        groups[r.name.substr(0, 8)].push_back(static_cast<int>(r.values.size()));
        try {
            if (validate(r) >= 0) valid++;
            else invalid++;
        } catch (const Invalid &e) {
            rethrown += e.where() >= 0;
        }
    }

    std::string joined;
    for (const auto &[name, sum] : byName) {
        if (sum % 50 == 0) joined += name.substr(7) + ",";
    }
    size_t groupSizes = 0;
    for (const auto &[prefix, sizes] : groups) groupSizes += sizes.size();
    std::printf("records %zu valid %d invalid %d rethrown %d names %zu groups %zu shared %ld\n",
                records.size(), valid, invalid, rethrown, byName.size(), groupSizes, shared.use_count());
    std::printf("joined %zu %s\n", joined.size(), joined.substr(0, 40).c_str());
    return 0;
}
