// The test build's sanitizers are on and say where they stopped the
// program. AddressSanitizer reports a bad access itself; an
// UndefinedBehaviorSanitizer check ends in a trap (CMakeLists.txt, GCC) that
// AddressSanitizer reports as "ILL" when ASAN_OPTIONS holds handle_sigill=1,
// as scripts/test sets it. Without sanitizers (a plain build) these tests
// are skipped: they would test nothing.

#include <gtest/gtest.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Kept out of the optimiser's reach, so the checks run on values it cannot
// fold.
volatile int g_big = INT_MAX;
volatile int g_index = 4;

// clang-format off
int add_overflowing(int a, int b) { return a + b; } constexpr int kOverflowLine = __LINE__;
// clang-format on

class SanitizerBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kSanitized) GTEST_SKIP() << "not a sanitizer build";
    // The death test runs this binary again; the child reads these options.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const char* options = std::getenv("ASAN_OPTIONS");
    std::string with = options ? options : "";
    if (with.find("handle_sigill=1") == std::string::npos) {
      with += (with.empty() ? "" : ":") + std::string("handle_sigill=1");
    }
    setenv("ASAN_OPTIONS", with.c_str(), 1);
  }
};

TEST_F(SanitizerBuild, SignedOverflowStopsTheProgramAtItsLine) {
  const std::string place = "sanitizer_test\\.cpp:" + std::to_string(kOverflowLine);
  EXPECT_DEATH(
      {
        const int sum = add_overflowing(g_big, 1);
        std::printf("%d\n", sum);
      },
      // Trapped: "ILL" then the stack; with messages: file:line, then the text.
      "(ILL.*" + place + "|" + place + ".*runtime error)");
}

TEST_F(SanitizerBuild, AHeapOverflowIsReportedWithItsStack) {
  EXPECT_DEATH(
      {
        auto four = std::make_unique<int[]>(4);
        four[static_cast<std::size_t>(g_index)] = 1;
        std::printf("%d\n", four[0]);
      },
      "heap-buffer-overflow");
}

}  // namespace
