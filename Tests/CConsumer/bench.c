#define _POSIX_C_SOURCE 199309L /* clock_gettime */
/* The cost of a call through the C ABI, next to `rfl bench`'s figures for the same work in
 * Swift: nanoseconds per call, the median of 7 runs. Built by `make bench` (optimized). */
#include "rfl.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static volatile uint64_t sink;

#define MEASURE(name, iterations, body)                                  \
    do {                                                                 \
        double samples[7];                                               \
        for (int run = 0; run < 7; run++) {                              \
            uint64_t local = 0;                                          \
            double start = now();                                        \
            for (long i = 0; i < (iterations); i++) { body; }            \
            samples[run] = (now() - start) / (double)(iterations);       \
            sink += local;                                               \
        }                                                                \
        qsort(samples, 7, sizeof samples[0], compare);                   \
        printf("%s    {\"name\":\"%s\",\"ns_per_op\":%.2f}", first ? "" : ",\n", name, samples[3]); \
        first = 0;                                                       \
    } while (0)

int main(void) {
    rfl_rng *rng = NULL;
    rfl_expr *d20 = NULL, *keep = NULL;
    rfl_ruleset *rules = NULL;
    rfl_character *hero = NULL;
    /* The ruleset of `rfl bench`'s "check, 5 modifiers": two modifiers on a value the check adds
     * (an item bonus and a status penalty) and three on the check (two circumstance bonuses,
     * of which stacking keeps the higher, and an untyped one). */
    static const char pack[] =
        "<pack xmlns=\"urn:roll-for-language:pack:1\" id=\"bench\" version=\"1.0.0\"><title>Bench</title>"
        "<stats><stat id=\"speaking\" default=\"3\"/><stat id=\"culture\" default=\"2\"/></stats>"
        "<skills><skill id=\"haggling\" default=\"1\"/></skills>"
        "<modifier-types><modifier-type id=\"circumstance\" stacking=\"highest\"/>"
        "<modifier-type id=\"item\" stacking=\"highest-bonus-lowest-penalty\"/>"
        "<modifier-type id=\"status\" stacking=\"highest-bonus-lowest-penalty\"/></modifier-types>"
        "<checks><check id=\"persuade-merchant\" adds=\"speaking haggling\" tags=\"social\" bands=\"four-degrees\">"
        "<natural when=\"=20\" shift=\"1\"/></check></checks>"
        "<items><item id=\"phrasebook\"><modifier target=\"speaking\" value=\"2\" type=\"item\"/></item>"
        "<item id=\"gift\"><modifier target=\"persuade-merchant\" value=\"2\" type=\"circumstance\"/></item></items>"
        "<conditions><condition id=\"tired\"><modifier target=\"speaking\" value=\"-1\" type=\"status\"/></condition>"
        "<condition id=\"tip\"><modifier target=\"persuade-merchant\" value=\"1\"/></condition></conditions>"
        "<feats><feat id=\"smile\"><modifier target=\"persuade-merchant\" value=\"1\" type=\"circumstance\"/></feat></feats>"
        "</pack>";
    if (rfl_rng_new(1, &rng) || rfl_expr_compile("1d20", &d20) || rfl_expr_compile("4d6kh3", &keep) ||
        rfl_ruleset_load_xml(pack, sizeof pack - 1, &rules) || rfl_character_new(rules, &hero)) {
        fprintf(stderr, "setup failed: %s\n", rfl_errmsg());
        return 1;
    }
    const char *sources[] = {"phrasebook", "tired", "smile", "gift", "tip"};
    for (int i = 0; i < 5; i++) rfl_character_apply(hero, sources[i]);
    int first = 1;
    int64_t total = 0;
    int outcome = 0;
    printf("{\n  \"unit\": \"nanoseconds per call through the C ABI, median of 7 runs\",\n  \"results\": [\n");
    MEASURE("rfl_rng_next", 50000000L, local ^= rfl_rng_next(rng));
    MEASURE("rfl_expr_roll 1d20", 20000000L, rfl_expr_roll(d20, rng, &total); local += (uint64_t)total);
    MEASURE("rfl_expr_roll 4d6kh3", 5000000L, rfl_expr_roll(keep, rng, &total); local += (uint64_t)total);
    MEASURE("rfl_check, 5 modifiers", 2000000L, rfl_check(hero, "bench:persuade-merchant", 15, 0, rng, &total, &outcome); local += (uint64_t)total);
    printf("\n  ]\n}\n");
    rfl_character_free(hero);
    rfl_ruleset_free(rules);
    rfl_expr_free(keep);
    rfl_expr_free(d20);
    rfl_rng_free(rng);
    return 0;
}
