// cxx_static_init_and_unwind: static constructors (in order, across a
// function-local static too), an exception thrown through 20 recursive
// frames and caught in main, backtrace() from <execinfo.h>, and RTTI
// (dynamic_cast, typeid). No threads. Prints results; exits 0.
#include <cstdio>
#include <cstring>
#include <execinfo.h>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace {

char init_log[128];

void log_init(const char *what)
{
    std::strncat(init_log, what, sizeof init_log - std::strlen(init_log) - 1);
    std::strncat(init_log, ";", sizeof init_log - std::strlen(init_log) - 1);
}

struct Registered {
    int value;
    explicit Registered(const char *name, int v) : value(v) { log_init(name); }
};

Registered first("first", 1);
Registered second("second", first.value + 1);
const std::string greeting = std::string("static ") + "string";

int computed_at_startup()
{
    int sum = 0;
    for (int i = 1; i <= 10; i++)
        sum += i * i;
    log_init("computed");
    return sum;
}
int startup_sum = computed_at_startup();

Registered &lazy()
{
    static Registered instance("lazy", 99);
    return instance;
}

struct DepthError : std::runtime_error {
    int depth;
    explicit DepthError(int d) : std::runtime_error("bottom reached"), depth(d) {}
};

int destroyed_frames;

struct FrameGuard {
    ~FrameGuard() { destroyed_frames++; }
};

__attribute__((noinline)) int recurse(int depth)
{
    FrameGuard guard;
    if (depth == 20)
        throw DepthError(depth);
    return recurse(depth + 1) + 1;
}

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
};
struct Square : Shape {
    double side;
    explicit Square(double s) : side(s) {}
    double area() const override { return side * side; }
};
struct Circle : Shape {
    double radius;
    explicit Circle(double r) : radius(r) {}
    double area() const override { return 3.0 * radius * radius; }
};

__attribute__((noinline)) int take_backtrace(int levels)
{
    if (levels > 0)
        return take_backtrace(levels - 1) + 0;
    void *frames[64];
    return backtrace(frames, 64);
}

} // namespace

int main()
{
    std::printf("static init order: %s\n", init_log);
    std::printf("second=%d greeting='%s' startup_sum=%d\n", second.value, greeting.c_str(), startup_sum);
    std::printf("lazy=%d\n", lazy().value);
    std::printf("after lazy: %s\n", init_log);

    try {
        recurse(1);
        std::printf("no exception (wrong)\n");
    } catch (const DepthError &e) {
        std::printf("caught DepthError '%s' at depth %d, destroyed %d frames\n",
                    e.what(), e.depth, destroyed_frames);
    }

    int frames = take_backtrace(3);
    if (frames >= 3)
        std::printf("backtrace ok\n");
    else
        std::printf("backtrace returned only %d frames\n", frames);

    Square square(3);
    Circle circle(2);
    Shape *shapes[] = {&square, &circle, &square};
    int squares = 0, circles = 0;
    double total = 0;
    for (Shape *s : shapes) {
        if (dynamic_cast<Square *>(s) != nullptr)
            squares++;
        if (auto *c = dynamic_cast<Circle *>(s))
            circles += c->radius > 0;
        total += s->area();
    }
    std::printf("dynamic_cast: squares=%d circles=%d total area=%.1f\n", squares, circles, total);
    std::printf("typeid: same=%d different=%d name-nonempty=%d\n",
                typeid(*shapes[0]) == typeid(*shapes[2]),
                typeid(*shapes[0]) != typeid(*shapes[1]),
                std::strlen(typeid(*shapes[1]).name()) > 0);
    try {
        Shape &ref = circle;
        (void)dynamic_cast<Square &>(ref);
        std::printf("dynamic_cast to reference did not throw (wrong)\n");
    } catch (const std::bad_cast &) {
        std::printf("caught std::bad_cast\n");
    }
    return 0;
}
