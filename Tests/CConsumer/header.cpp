// The header compiles as C++ (extern "C"), and its declarations are usable from C++.
#include "rfl.h"

#include <cstdio>

int main() {
    rfl_rng *rng = nullptr;
    if (rfl_rng_new(42, &rng) != RFL_OK) return 1;
    rfl_expr *expr = nullptr;
    if (rfl_expr_compile("1d20+5", &expr) != RFL_OK) return 1;
    int64_t total = 0;
    rfl_status status = rfl_expr_roll(expr, rng, &total);
    std::printf("%s %lld\n", rfl_status_name(status), static_cast<long long>(total));
    rfl_limits limits;
    rfl_limits_default(&limits);
    rfl_expr_free(expr);
    rfl_rng_free(rng);
    return 0;
}
