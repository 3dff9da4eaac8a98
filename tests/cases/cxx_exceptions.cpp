// cxx_exceptions: C++ exception handling (unwinding through several frames,
// a custom exception class, catch(...) with rethrow) plus standard library
// containers and algorithms. Prints results; exits 0.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Tracker {
    static int live;
    std::string name;
    explicit Tracker(std::string n) : name(std::move(n)) { ++live; }
    ~Tracker() { --live; }
};
int Tracker::live = 0;

class ParseError : public std::exception {
public:
    ParseError(std::string what, int position)
        : what_(std::move(what)), position_(position) {}
    const char *what() const noexcept override { return what_.c_str(); }
    int position() const { return position_; }
private:
    std::string what_;
    int position_;
};

__attribute__((noinline)) int level3(int x)
{
    Tracker t("level3");
    if (x % 3 == 0)
        throw std::runtime_error("runtime error at x=" + std::to_string(x));
    if (x % 3 == 1)
        throw ParseError("parse error", x * 10);
    return x * 2;
}

__attribute__((noinline)) int level2(int x)
{
    Tracker t("level2");
    std::vector<int> scratch(16, x);
    return level3(x) + scratch[3];
}

__attribute__((noinline)) int level1(int x)
{
    Tracker t("level1");
    try {
        return level2(x);
    } catch (...) {
        // Clean up and rethrow whatever it was.
        std::printf("  level1 saw an exception for x=%d, rethrowing (live=%d)\n",
                    x, Tracker::live);
        throw;
    }
}

int parse_number(const std::string &s)
{
    int value = 0;
    for (size_t i = 0; i < s.size(); i++) {
        if (s[i] < '0' || s[i] > '9')
            throw ParseError("bad digit in '" + s + "'", static_cast<int>(i));
        value = value * 10 + (s[i] - '0');
    }
    return value;
}

} // namespace

int main()
{
    std::printf("exceptions:\n");
    for (int x = 0; x < 6; x++) {
        try {
            int r = level1(x);
            std::printf("  x=%d returned %d\n", x, r);
        } catch (const ParseError &e) {
            std::printf("  x=%d ParseError '%s' at %d\n", x, e.what(), e.position());
        } catch (const std::runtime_error &e) {
            std::printf("  x=%d runtime_error '%s'\n", x, e.what());
        }
    }
    std::printf("live trackers after unwinding: %d\n", Tracker::live);

    const char *inputs[] = {"123", "45x6", "7", "", "99999", "-1"};
    long total = 0;
    for (const char *in : inputs) {
        try {
            total += parse_number(in);
        } catch (const std::exception &e) {
            std::printf("parse failed: %s\n", e.what());
        }
    }
    std::printf("parse total: %ld\n", total);

    try {
        std::vector<int> v(3);
        (void)v.at(10);
    } catch (const std::out_of_range &) {
        std::printf("caught std::out_of_range from vector::at\n");
    }

    try {
        auto p = std::make_unique<std::map<int, int>>();
        (void)p->at(42);
    } catch (const std::exception &) {
        std::printf("caught exception from map::at\n");
    }

    // Containers and algorithms.
    std::vector<std::uint32_t> nums;
    std::uint32_t s = 2463534242u;
    for (int i = 0; i < 5000; i++) {
        s ^= s << 13; s ^= s >> 17; s ^= s << 5;
        nums.push_back(s % 100000);
    }
    std::sort(nums.begin(), nums.end());
    std::uint64_t sum = std::accumulate(nums.begin(), nums.end(), std::uint64_t{0});
    auto uniq_end = std::unique(nums.begin(), nums.end());
    std::printf("vector: min=%u max=%u sum=%llu unique=%ld\n",
                nums.front(), nums.back(), static_cast<unsigned long long>(sum),
                static_cast<long>(uniq_end - nums.begin()));

    std::map<std::string, int> words;
    const std::string text =
        "the quick brown fox jumps over the lazy dog the fox is quick and the dog is lazy";
    std::string word;
    for (char c : text + " ") {
        if (c == ' ') {
            if (!word.empty()) words[word]++;
            word.clear();
        } else {
            word += c;
        }
    }
    std::string joined;
    for (const auto &[w, n] : words) {
        joined += w + "=" + std::to_string(n) + " ";
    }
    std::printf("map: %zu words: %s\n", words.size(), joined.c_str());

    std::vector<std::string> names = {"delta", "alpha", "charlie", "echo", "bravo"};
    std::sort(names.begin(), names.end(),
              [](const std::string &a, const std::string &b) {
                  return a.size() != b.size() ? a.size() < b.size() : a < b;
              });
    std::string all;
    for (const auto &n : names) all += n + ",";
    std::printf("sorted names: %s\n", all.c_str());

    std::string big;
    for (int i = 0; i < 1000; i++) big += std::to_string(i % 10);
    std::printf("string: length %zu, find('789') %zu, substr %s\n",
                big.size(), big.find("789"), big.substr(100, 12).c_str());
    return 0;
}
