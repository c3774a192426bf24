# Every dependency comes from a Debian 12 package (see scripts/deps).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS locale)
find_package(SQLite3 REQUIRED)
find_package(ICU REQUIRED COMPONENTS uc i18n)
find_package(fmt REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(IDN2 REQUIRED IMPORTED_TARGET libidn2)
pkg_check_modules(GMIME REQUIRED IMPORTED_TARGET gmime-3.0)
find_package(OpenSSL 3 REQUIRED)
find_package(CURL REQUIRED)

find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h REQUIRED)
find_library(PHONENUMBER_LIBRARY phonenumber REQUIRED)
add_library(rempart_phonenumber INTERFACE)
target_include_directories(rempart_phonenumber INTERFACE ${PHONENUMBER_INCLUDE_DIR})
target_link_libraries(rempart_phonenumber INTERFACE ${PHONENUMBER_LIBRARY} ICU::uc)

add_library(rempart_boost INTERFACE)
target_link_libraries(rempart_boost INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(rempart_boost INTERFACE BOOST_BEAST_USE_STD_STRING_VIEW BOOST_ASIO_NO_DEPRECATED)

# The executables' allocator: jemalloc (Debian libjemalloc-dev) in builds
# without the sanitizers, which bring their own. Under the sign-up load glibc's
# malloc/free were ~15 % of serve's samples, and its per-thread heaps grow
# and shrink with mprotect calls; jemalloc's thread caches avoid both
# (docs/benchmarks.md has the side-by-side runs). `rempart_use_allocator`
# links it into one executable; libraries and tests keep the default.
option(REMPART_JEMALLOC "Link the executables against jemalloc (not with REMPART_SANITIZE)" ON)
if(REMPART_JEMALLOC AND NOT REMPART_SANITIZE)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
function(rempart_use_allocator target)
  if(TARGET PkgConfig::JEMALLOC)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()

if(REMPART_TESTS)
  find_package(GTest REQUIRED)
endif()
