using Checker.Symbols.Demangling;
using Xunit;

namespace Checker.Tests.Symbols;

public class DemanglerTests
{
    [Theory]
    [InlineData("_ZN2ns6Widget6resizeEm", "ns::Widget::resize(unsigned long)")]
    [InlineData("_Z4mainv", "main()")]
    [InlineData("_ZNSt6vectorIiSaIiEE9push_backERKi", "std::vector<int, std::allocator<int> >::push_back(int const&)")]
    [InlineData("_ZN6shapes4RectD0Ev", "shapes::Rect::~Rect()")]
    [InlineData("_Znwm", "operator new(unsigned long)")]
    [InlineData("_Z3fooi.cold", "foo(int) [clone .cold]")]
    public void MangledNames_AreDemangled(string mangled, string expected) =>
        Assert.Equal(expected, Demangler.Demangle(mangled));

    [Theory]
    [InlineData("main")]
    [InlineData("malloc")]
    [InlineData("f")] // a bare type encoding to __cxa_demangle ("float"); a C function here
    [InlineData("i")]
    [InlineData("_Z")]
    [InlineData("_Zthis is not mangled")]
    [InlineData("__libc_start_main")]
    [InlineData("")]
    public void OtherNames_AreReturnedUnchanged(string name) =>
        Assert.Same(name, Demangler.Demangle(name));
}
