/* The complete example of docs/c-api.md (a test keeps the two the same): `make test` builds it
 * with only `pkg-config --cflags --libs rfl` against an installed copy and runs it without
 * LD_LIBRARY_PATH. */
#include <rfl.h>
#include <stdio.h>

int main(void) {
    rfl_rng *rng = NULL;
    rfl_expr *expr = NULL;
    rfl_ruleset *rules = NULL;
    rfl_character *hero = NULL;
    const char *packs[] = {"rulesets"};

    if (rfl_rng_new(42, &rng) != RFL_OK ||
        rfl_expr_compile("4d6kh3", &expr) != RFL_OK ||
        rfl_ruleset_load(packs, 1, &rules) != RFL_OK ||
        rfl_character_new(rules, &hero) != RFL_OK) {
        fprintf(stderr, "error: %s\n", rfl_errmsg());
        return 1;
    }

    int64_t total = 0;
    rfl_expr_roll(expr, rng, &total);                 /* 14: the same as `rfl roll 4d6kh3 --seed 42` */

    char *json = NULL;
    if (rfl_expr_odds_json(expr, &json) == RFL_OK) {  /* the same JSON as `rfl odds 4d6kh3 --json` */
        puts(json);
        rfl_free(json);                               /* every string handed out: rfl_free */
    }

    rfl_character_set(hero, "speaking", 4);           /* short ids work when unambiguous */
    rfl_character_apply(hero, "phrasebook");
    int outcome = 0;
    if (rfl_check(hero, "persuade-merchant", 15, +1, rng, &total, &outcome) != RFL_OK)
        fprintf(stderr, "error: %s\n", rfl_errmsg());
    printf("total %lld, band %d\n", (long long)total, outcome);

    rfl_character_free(hero);
    rfl_ruleset_free(rules);
    rfl_expr_free(expr);
    rfl_rng_free(rng);
    return 0;
}
