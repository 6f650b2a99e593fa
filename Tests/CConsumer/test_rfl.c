/* The C consumer of librfl: every function, every error path and misuse, and determinism
 * against the values Swift and the command line give for the same seeds.
 * Built with -std=c11 -Wall -Wextra -Werror by `make test`; run under valgrind too. */
#include "rfl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef RULESETS
#error "define RULESETS as the path of the rulesets folder"
#endif

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        checks++;                                                                    \
        if (!(cond)) {                                                               \
            failures++;                                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (errmsg: %s)\n", __FILE__,      \
                    __LINE__, #cond, rfl_errmsg());                                  \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(call, expected) CHECK((call) == (expected))
#define CHECK_OK(call) CHECK_STATUS(call, RFL_OK)
#define CHECK_MESSAGE(text) CHECK(strstr(rfl_errmsg(), (text)) != NULL)

/* Replaces *rng with a fresh generator seeded with `seed`. */
static void reseed(rfl_rng **rng, uint64_t seed) {
    rfl_rng_free(*rng);
    *rng = NULL;
    CHECK_OK(rfl_rng_new(seed, rng));
}

static void test_versions(void) {
    CHECK(rfl_abi_version() == RFL_ABI_VERSION);
    const char *version = rfl_version();
    int major = -1, minor = -1, patch = -1;
    CHECK(sscanf(version, "%d.%d.%d", &major, &minor, &patch) == 3);
    CHECK(strcmp(rfl_status_name(RFL_OK), "RFL_OK") == 0);
    CHECK(strcmp(rfl_status_name(RFL_NOMEM), "RFL_NOMEM") == 0);
    CHECK(strcmp(rfl_status_name((rfl_status)99), "RFL_UNKNOWN") == 0);
    CHECK(strcmp(rfl_status_name((rfl_status)-1), "RFL_UNKNOWN") == 0);
    rfl_free(NULL);
}

static void test_rng(void) {
    /* Golden values of the RNG contract (Tests/Fixtures/reference_rng.py). */
    const uint64_t seed42[4] = {1546998764402558742ULL, 6990951692964543102ULL, 12544586762248559009ULL, 17057574109182124193ULL};
    rfl_rng *rng = NULL;
    CHECK_OK(rfl_rng_new(42, &rng));
    CHECK(rng != NULL);
    for (int i = 0; i < 4; i++) CHECK(rfl_rng_next(rng) == seed42[i]);
    rfl_rng_free(rng);

    rfl_rng *max = NULL;
    CHECK_OK(rfl_rng_new(UINT64_MAX, &max));
    CHECK(rfl_rng_next(max) == 10328197420357168392ULL);
    rfl_rng_free(max);

    /* Dice: seed 42 gives d20s 2 8 14 19 20. */
    CHECK_OK(rfl_rng_new(42, &rng));
    const int64_t d20[5] = {2, 8, 14, 19, 20};
    for (int i = 0; i < 5; i++) {
        int64_t face = 0;
        CHECK_OK(rfl_rng_die(rng, 20, &face));
        CHECK(face == d20[i]);
    }
    uint64_t value = 0;
    CHECK_OK(rfl_rng_uniform(rng, 1, &value));
    CHECK(value == 0);
    CHECK_STATUS(rfl_rng_uniform(rng, 0, &value), RFL_INVALID);
    CHECK_MESSAGE("bound is 0");
    int64_t face = 0;
    CHECK_STATUS(rfl_rng_die(rng, 0, &face), RFL_INVALID);
    CHECK_STATUS(rfl_rng_die(rng, -5, &face), RFL_INVALID);
    CHECK_STATUS(rfl_rng_die(rng, 1000000001, &face), RFL_INVALID);

    /* State: save, draw, restore, draw the same. */
    uint64_t state[4];
    CHECK_OK(rfl_rng_get_state(rng, state));
    uint64_t first = rfl_rng_next(rng), second = rfl_rng_next(rng);
    CHECK_OK(rfl_rng_set_state(rng, state));
    CHECK(rfl_rng_next(rng) == first && rfl_rng_next(rng) == second);
    const uint64_t zero[4] = {0, 0, 0, 0};
    CHECK_STATUS(rfl_rng_set_state(rng, zero), RFL_INVALID);
    CHECK_MESSAGE("all-zero state");

    /* Clone continues identically. */
    rfl_rng *copy = NULL;
    CHECK_OK(rfl_rng_clone(rng, &copy));
    CHECK(rfl_rng_next(copy) == rfl_rng_next(rng));
    rfl_rng_free(copy);

    /* Jumps: seed 1 jumped gives the reference's values. */
    rfl_rng *jumped = NULL;
    CHECK_OK(rfl_rng_new(1, &jumped));
    CHECK_OK(rfl_rng_jump(jumped));
    CHECK(rfl_rng_next(jumped) == 3686199559692413392ULL);
    rfl_rng_free(jumped);
    CHECK_OK(rfl_rng_new(1, &jumped));
    CHECK_OK(rfl_rng_long_jump(jumped));
    CHECK(rfl_rng_next(jumped) == 4176136774912868871ULL);
    rfl_rng_free(jumped);

    /* Split: the stream handed out is the seed's start; the source moved one jump ahead. */
    rfl_rng *base = NULL, *stream = NULL, *reference = NULL;
    CHECK_OK(rfl_rng_new(7, &base));
    CHECK_OK(rfl_rng_new(7, &reference));
    CHECK_OK(rfl_rng_split(base, &stream));
    CHECK(rfl_rng_next(stream) == rfl_rng_next(reference));
    CHECK_OK(rfl_rng_set_state(reference, state));
    rfl_rng_free(base);
    rfl_rng_free(stream);
    rfl_rng_free(reference);

    /* Misuse: NULL everywhere. */
    CHECK_STATUS(rfl_rng_new(1, NULL), RFL_MISUSE);
    CHECK_MESSAGE("out is NULL");
    CHECK(rfl_rng_next(NULL) == 0);
    CHECK_MESSAGE("rng is NULL");
    CHECK_STATUS(rfl_rng_uniform(NULL, 6, &value), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_uniform(rng, 6, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_die(NULL, 6, &face), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_get_state(NULL, state), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_get_state(rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_set_state(rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_clone(NULL, &copy), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_split(rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_jump(NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_rng_long_jump(NULL), RFL_MISUSE);
    rfl_rng_free(NULL);
    rfl_rng_free(rng);
}

static void test_expressions(void) {
    rfl_rng *rng = NULL;
    CHECK_OK(rfl_rng_new(42, &rng));
    rfl_expr *expr = NULL;
    CHECK_OK(rfl_expr_compile("4d6kh3", &expr));
    int64_t total = 0;
    CHECK_OK(rfl_expr_roll(expr, rng, &total));
    CHECK(total == 14); /* the same as `rfl roll 4d6kh3 --seed 42` and Swift */

    /* The JSON of a roll, as `rfl roll --json` prints it. */
    reseed(&rng, 42);
    char *json = NULL;
    CHECK_OK(rfl_expr_roll_json(expr, rng, &json));
    CHECK(json != NULL && strcmp(json,
        "{\"total\":14,\"dice\":[{\"die\":\"d6\",\"column\":1,\"faces\":[1],\"value\":1,\"kept\":false},"
        "{\"die\":\"d6\",\"column\":1,\"faces\":[3],\"value\":3,\"kept\":true},"
        "{\"die\":\"d6\",\"column\":1,\"faces\":[5],\"value\":5,\"kept\":true},"
        "{\"die\":\"d6\",\"column\":1,\"faces\":[6],\"value\":6,\"kept\":true}]}") == 0);
    rfl_free(json);

    /* Odds, the same JSON as `rfl odds --json`. */
    CHECK_OK(rfl_expr_odds_json(expr, &json));
    CHECK(json != NULL && strncmp(json, "{\"expression\":\"4d6kh3\",\"distribution\":[{\"value\":3,\"probability\":0.000771604938271", 80) == 0);
    CHECK(strstr(json, "\"mean\":12.244598765432") != NULL);
    rfl_free(json);
    double p = 0;
    CHECK_OK(rfl_expr_odds_at_least(expr, 15, &p));
    CHECK(fabs(p - 0.2314814814814815) < 1e-12);
    rfl_expr_free(expr);

    /* Stat references. */
    CHECK_OK(rfl_expr_compile("1d20 + @grammar + @core:speaking", &expr));
    size_t count = 0;
    CHECK_OK(rfl_expr_stat_count(expr, &count));
    CHECK(count == 2);
    const char *name = NULL;
    CHECK_OK(rfl_expr_stat_name(expr, 1, &name));
    CHECK(name != NULL && strcmp(name, "core:speaking") == 0);
    CHECK_STATUS(rfl_expr_stat_name(expr, 2, &name), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll(expr, rng, &total), RFL_NOTFOUND);
    CHECK_MESSAGE("no value given for '@grammar'");
    const int64_t values[2] = {3, 4};
    reseed(&rng, 42);
    CHECK_OK(rfl_expr_roll_with_stats(expr, values, 2, rng, &total));
    CHECK(total == 2 + 3 + 4);
    CHECK_STATUS(rfl_expr_roll_with_stats(expr, values, 1, rng, &total), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll_with_stats(expr, NULL, 2, rng, &total), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_odds_json(expr, &json), RFL_NOTFOUND);
    reseed(&rng, 42);
    CHECK_OK(rfl_expr_roll_json_with_stats(expr, values, 2, rng, &json));
    CHECK(json != NULL && strncmp(json, "{\"total\":9,", 11) == 0);
    rfl_free(json);
    CHECK_OK(rfl_expr_odds_json_with_stats(expr, values, 2, &json));
    CHECK(json != NULL && strstr(json, "\"min\":8,\"max\":27") != NULL);
    rfl_free(json);
    CHECK_STATUS(rfl_expr_odds_json_with_stats(expr, values, 1, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_odds_json_with_stats(expr, NULL, 2, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_odds_json_with_stats(expr, values, 2, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll_json_with_stats(expr, values, 2, NULL, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll_json_with_stats(NULL, values, 2, rng, &json), RFL_MISUSE);
    rfl_expr_free(expr);

    /* Errors name the column. */
    CHECK_STATUS(rfl_expr_compile("2d6+", &expr), RFL_SYNTAX);
    CHECK_MESSAGE("column 5: unexpected end of expression");
    CHECK_STATUS(rfl_expr_compile("1d6r<7", &expr), RFL_INVALID);
    CHECK_MESSAGE("never stops");
    CHECK_STATUS(rfl_expr_compile("10001d6", &expr), RFL_LIMIT);
    CHECK_MESSAGE("maxDice is 10000");
    CHECK_STATUS(rfl_expr_compile("\xff\xfe", &expr), RFL_MISUSE);
    CHECK_MESSAGE("not valid UTF-8");

    /* Limits. */
    rfl_limits limits;
    CHECK_OK(rfl_limits_default(&limits));
    CHECK(limits.version == RFL_LIMITS_VERSION && limits.max_dice == 10000 && limits.max_sides == 1000000);
    limits.max_dice = 3;
    CHECK_STATUS(rfl_expr_compile_with_limits("4d6", &limits, &expr), RFL_LIMIT);
    CHECK_MESSAGE("maxDice is 3");
    CHECK_OK(rfl_expr_compile_with_limits("3d6", &limits, &expr));
    rfl_expr_free(expr);
    CHECK_OK(rfl_expr_compile_with_limits("3d6", NULL, &expr));
    rfl_expr_free(expr);
    limits.max_dice = 10000;
    limits.max_odds_work = 1000;
    CHECK_OK(rfl_expr_compile_with_limits("100d100", &limits, &expr));
    CHECK_STATUS(rfl_expr_odds_json(expr, &json), RFL_LIMIT);
    CHECK_MESSAGE("maxOddsWork, 1000");
    rfl_expr_free(expr);
    limits.version = 99;
    CHECK_STATUS(rfl_expr_compile_with_limits("1d6", &limits, &expr), RFL_MISUSE);
    CHECK_MESSAGE("limits->version is 99");
    limits.version = RFL_LIMITS_VERSION;
    limits.max_nesting = -1;
    CHECK_STATUS(rfl_expr_compile_with_limits("1d6", &limits, &expr), RFL_MISUSE);
    CHECK_STATUS(rfl_limits_default(NULL), RFL_MISUSE);

    /* Runtime errors. */
    CHECK_OK(rfl_expr_compile("9223372036854775807 + 1d6", &expr));
    CHECK_STATUS(rfl_expr_roll(expr, rng, &total), RFL_INVALID);
    CHECK_MESSAGE("too large for a 64-bit integer");
    rfl_expr_free(expr);

    /* Misuse. */
    CHECK_STATUS(rfl_expr_compile(NULL, &expr), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_compile("1d6", NULL), RFL_MISUSE);
    CHECK_OK(rfl_expr_compile("1d6", &expr));
    CHECK_STATUS(rfl_expr_roll(NULL, rng, &total), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll(expr, NULL, &total), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll(expr, rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_roll_json(expr, rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_odds_json(NULL, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_odds_at_least(expr, 3, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_stat_count(expr, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_expr_stat_name(expr, 0, NULL), RFL_MISUSE);
    /* A handle of the wrong type is refused, not used. */
    CHECK_STATUS(rfl_expr_roll((const rfl_expr *)rng, rng, &total), RFL_MISUSE);
    CHECK_MESSAGE("expr is not a live rfl_expr");
    CHECK_STATUS(rfl_expr_roll(expr, (rfl_rng *)expr, &total), RFL_MISUSE);
    rfl_expr_free(expr);
    rfl_expr_free(NULL);
    rfl_rng_free(rng);
}

static void test_rulesets_and_checks(void) {
    const char *paths[] = {RULESETS};
    rfl_ruleset *rules = NULL;
    CHECK_OK(rfl_ruleset_load(paths, 1, &rules));
    char *name = NULL;
    CHECK_OK(rfl_ruleset_name(rules, "core:speaking", "es", &name));
    CHECK(name != NULL && strcmp(name, "Expresión oral") == 0);
    rfl_free(name);
    CHECK_OK(rfl_ruleset_name(rules, "persuade-merchant", "fr", &name));
    CHECK(name != NULL && strcmp(name, "Convaincre un marchand") == 0);
    rfl_free(name);
    CHECK_STATUS(rfl_ruleset_name(rules, "nothing", "en", &name), RFL_NOTFOUND);

    rfl_character *hero = NULL;
    CHECK_OK(rfl_character_new(rules, &hero));
    CHECK_OK(rfl_character_set(hero, "speaking", 4));
    int64_t value = 0;
    CHECK_OK(rfl_character_get(hero, "core:speaking", &value));
    CHECK(value == 4);
    CHECK_OK(rfl_character_set(hero, "vocabulary", 6));
    CHECK_OK(rfl_character_set(hero, "grammar", 4));
    CHECK_OK(rfl_character_get(hero, "fluency", &value));
    CHECK(value == 5);
    CHECK_STATUS(rfl_character_set(hero, "speaking", 11), RFL_INVALID);
    CHECK_MESSAGE("the maximum is 10");
    CHECK_STATUS(rfl_character_set(hero, "fluency", 1), RFL_INVALID);
    CHECK_STATUS(rfl_character_set(hero, "speking", 1), RFL_NOTFOUND);
    CHECK_MESSAGE("did you mean 'core:speaking'?");

    /* A check: seed 7, speaking 4 against 15 rolls a 15: total 19, success (band 2), as
     * `rfl check persuade-merchant --dc 15 --stat speaking=4 --seed 7`. */
    rfl_rng *rng = NULL;
    CHECK_OK(rfl_rng_new(7, &rng));
    int64_t total = 0;
    int outcome = -1;
    CHECK_OK(rfl_check(hero, "persuade-merchant", 15, 0, rng, &total, &outcome));
    CHECK(total == 19 && outcome == 2);
    reseed(&rng, 7);
    char *json = NULL;
    CHECK_OK(rfl_check_json(hero, "persuade-merchant", 15, 0, rng, &json));
    CHECK(json != NULL && strstr(json, "\"total\":19") != NULL && strstr(json, "\"band_id\":\"success\"") != NULL);
    rfl_free(json);

    /* Modifiers and their breakdown. */
    CHECK_OK(rfl_character_apply(hero, "phrasebook"));
    CHECK_OK(rfl_character_get(hero, "vocabulary", &value));
    CHECK(value == 8);
    CHECK_OK(rfl_character_breakdown_json(hero, "vocabulary", &json));
    CHECK(json != NULL && strstr(json, "\"source\":\"core:phrasebook\"") != NULL && strstr(json, "\"status\":\"applied\"") != NULL);
    rfl_free(json);
    CHECK_OK(rfl_character_apply(hero, "tired"));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 3);
    CHECK_OK(rfl_character_advance(hero, 3));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 4);
    CHECK_STATUS(rfl_character_advance(hero, -1), RFL_INVALID);
    CHECK_OK(rfl_character_remove(hero, "phrasebook"));
    CHECK_STATUS(rfl_character_remove(hero, "phrasebook"), RFL_NOTFOUND);
    CHECK_STATUS(rfl_character_apply(hero, "phrasbook"), RFL_NOTFOUND);
    CHECK_MESSAGE("did you mean 'core:phrasebook'?");

    /* Advantage: two rolls in the JSON. */
    CHECK_OK(rfl_check_json(hero, "eavesdrop", 10, 1, rng, &json));
    CHECK(json != NULL && strstr(json, "\"advantage\":\"advantage\"") != NULL);
    rfl_free(json);

    /* Odds of each band: listening 2 + d20 against 15 succeeds 8 times in 20. */
    CHECK_OK(rfl_check_odds_json(hero, "eavesdrop", 15, 0, &json));
    CHECK(json != NULL && strstr(json, "{\"id\":\"success\",\"probability\":0.4") != NULL);
    rfl_free(json);

    /* Clones are independent. */
    rfl_character *twin = NULL;
    CHECK_OK(rfl_character_clone(hero, &twin));
    CHECK_OK(rfl_character_set(twin, "speaking", 9));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 4);
    rfl_character_free(twin);

    /* A character keeps its ruleset alive after rfl_ruleset_free. */
    rfl_ruleset_free(rules);
    CHECK_OK(rfl_check(hero, "debate", 8, -1, rng, &total, &outcome));
    CHECK(outcome == 0 || outcome == 1);

    /* Misuse. */
    CHECK_STATUS(rfl_check(hero, "nothing", 10, 0, rng, &total, &outcome), RFL_NOTFOUND);
    CHECK_STATUS(rfl_check(NULL, "debate", 10, 0, rng, &total, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check(hero, NULL, 10, 0, rng, &total, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check(hero, "debate", 10, 0, NULL, &total, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check(hero, "debate", 10, 0, rng, NULL, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check(hero, "debate", 10, 0, rng, &total, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_check_json(hero, "debate", 10, 0, rng, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_check_odds_json(hero, "debate", 10, 0, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_character_get(hero, "speaking", NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_character_set(NULL, "speaking", 1), RFL_MISUSE);
    CHECK_STATUS(rfl_character_apply(hero, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_character_remove(NULL, "x"), RFL_MISUSE);
    CHECK_STATUS(rfl_character_advance(NULL, 1), RFL_MISUSE);
    CHECK_STATUS(rfl_character_breakdown_json(hero, "speaking", NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_character_clone(hero, NULL), RFL_MISUSE);
    CHECK_STATUS(rfl_character_new(NULL, &twin), RFL_MISUSE);
    CHECK_STATUS(rfl_character_new((const rfl_ruleset *)hero, &twin), RFL_MISUSE);
    CHECK_MESSAGE("ruleset is not a live rfl_ruleset");
    rfl_character_free(hero);
    rfl_character_free(NULL);
    rfl_rng_free(rng);
}

static void test_pack_errors(void) {
    rfl_ruleset *rules = NULL;
    const char *missing[] = {"/nonexistent/pack.xml"};
    CHECK_STATUS(rfl_ruleset_load(missing, 1, &rules), RFL_IO);
    CHECK_MESSAGE("cannot read '/nonexistent/pack.xml'");
    CHECK_STATUS(rfl_ruleset_load(missing, 0, &rules), RFL_MISUSE);
    CHECK_STATUS(rfl_ruleset_load(NULL, 1, &rules), RFL_MISUSE);
    const char *null_entry[] = {NULL};
    CHECK_STATUS(rfl_ruleset_load(null_entry, 1, &rules), RFL_MISUSE);

    const char *bad = "<pack xmlns=\"urn:roll-for-language:pack:1\" id=\"b\" version=\"1.0.0\">\n"
                      "  <title>B</title>\n"
                      "  <stats><stat id=\"a\"/></stats>\n"
                      "  <derived><value id=\"d\" formula=\"@c + 1\"/></derived>\n"
                      "</pack>\n";
    CHECK_STATUS(rfl_ruleset_load_xml(bad, strlen(bad), &rules), RFL_INVALID);
    CHECK_MESSAGE("<memory>:4:36: error: unknown stat, skill or derived value 'c'");
    const char *bomb = "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><pack/>";
    CHECK_STATUS(rfl_ruleset_load_xml(bomb, strlen(bomb), &rules), RFL_INVALID);
    CHECK_MESSAGE("a DOCTYPE is not allowed");
    const char *good = "<pack xmlns=\"urn:roll-for-language:pack:1\" id=\"g\" version=\"1.0.0\"><title>G</title>"
                       "<stats><stat id=\"might\" default=\"3\"/></stats></pack>";
    CHECK_OK(rfl_ruleset_load_xml(good, strlen(good), &rules));
    rfl_character *ch = NULL;
    CHECK_OK(rfl_character_new(rules, &ch));
    int64_t value = 0;
    CHECK_OK(rfl_character_get(ch, "might", &value));
    CHECK(value == 3);
    rfl_character_free(ch);
    rfl_ruleset_free(rules);
    CHECK_STATUS(rfl_ruleset_load_xml(NULL, 3, &rules), RFL_MISUSE);
    CHECK_STATUS(rfl_ruleset_load_xml(good, strlen(good), NULL), RFL_MISUSE);

    /* Validation lists every problem. */
    char *json = NULL;
    size_t errors = 99;
    const char *paths[] = {RULESETS};
    CHECK_OK(rfl_ruleset_validate_json(paths, 1, &json, &errors));
    CHECK(errors == 0 && json != NULL && strcmp(json, "[]") == 0);
    rfl_free(json);
    CHECK_OK(rfl_ruleset_validate_json(missing, 1, &json, &errors));
    CHECK(errors == 1 && strstr(json, "\"severity\":\"error\",\"code\":\"io\"") != NULL);
    rfl_free(json);
    CHECK_STATUS(rfl_ruleset_validate_json(paths, 1, NULL, &errors), RFL_MISUSE);
    CHECK_STATUS(rfl_ruleset_validate_json(paths, 1, &json, NULL), RFL_MISUSE);
    rfl_ruleset_free(NULL);
}

static void test_check_options_and_catalog(void) {
    rfl_ruleset *rules = NULL;
    const char *paths[] = {RULESETS};
    CHECK_OK(rfl_ruleset_load(paths, 1, &rules));
    rfl_character *hero = NULL, *rival = NULL;
    CHECK_OK(rfl_character_new(rules, &hero));
    CHECK_OK(rfl_character_new(rules, &rival));
    rfl_rng *rng = NULL;
    CHECK_OK(rfl_rng_new(7, &rng));

    /* NULL options and default options are rfl_check itself. */
    int64_t plain = 0, total = 0;
    int outcome = -1;
    CHECK_OK(rfl_check(hero, "eavesdrop", 10, 0, rng, &plain, &outcome));
    reseed(&rng, 7);
    CHECK_OK(rfl_check_ex(hero, "eavesdrop", 10, NULL, rng, &total, &outcome));
    CHECK(total == plain);
    rfl_check_options options = RFL_CHECK_OPTIONS_INIT;
    reseed(&rng, 7);
    CHECK_OK(rfl_check_ex(hero, "eavesdrop", 10, &options, rng, &total, &outcome));
    CHECK(total == plain);

    /* Night Owl (night-market pack) gives +2 to eavesdrop only when the situation is tagged night. */
    CHECK_OK(rfl_character_apply(hero, "night-owl"));
    reseed(&rng, 7);
    CHECK_OK(rfl_check_ex(hero, "eavesdrop", 10, &options, rng, &total, &outcome));
    CHECK(total == plain);
    const char *night[] = {"night"};
    options.tags = night;
    options.tag_count = 1;
    reseed(&rng, 7);
    CHECK_OK(rfl_check_ex(hero, "eavesdrop", 10, &options, rng, &total, &outcome));
    CHECK(total == plain + 2);
    char *json = NULL;
    reseed(&rng, 7);
    CHECK_OK(rfl_check_ex_json(hero, "eavesdrop", 10, &options, rng, &json));
    CHECK(json != NULL && strstr(json, "\"source\":\"night-market:night-owl\"") != NULL);
    rfl_free(json);
    /* listening 2 + 2 + d20 against 15: 10 faces of 20 succeed. */
    CHECK_OK(rfl_check_ex_odds_json(hero, "eavesdrop", 15, &options, &json));
    CHECK(json != NULL && strstr(json, "{\"id\":\"success\",\"probability\":0.5}") != NULL);
    rfl_free(json);

    /* Opposed: the same check for both, and then another for the opponent. */
    rfl_check_options opposed;
    CHECK_OK(rfl_check_options_init(&opposed, RFL_CHECK_OPTIONS_VERSION));
    CHECK(opposed.version == RFL_CHECK_OPTIONS_VERSION && opposed.advantage == 0 && opposed.tags == NULL && opposed.opponent == NULL);
    opposed.opponent = rival;
    CHECK_OK(rfl_check_ex(hero, "persuade-merchant", 0, &opposed, rng, &total, &outcome));
    CHECK(outcome >= 0 && outcome <= 3);
    CHECK_OK(rfl_check_ex_json(hero, "persuade-merchant", 0, &opposed, rng, &json));
    CHECK(json != NULL && strstr(json, "\"opponent\":") != NULL);
    rfl_free(json);
    opposed.opponent_check_id = "eavesdrop";
    opposed.opponent_advantage = -1;
    CHECK_OK(rfl_check_ex_odds_json(hero, "persuade-merchant", 0, &opposed, &json));
    CHECK(json != NULL && strstr(json, "\"dc\":null") != NULL);
    rfl_free(json);
    CHECK_STATUS(rfl_check_ex(hero, "persuade-merchant", 0, &opposed, rng, &total, NULL), RFL_MISUSE);
    opposed.opponent_check_id = "nothing";
    CHECK_STATUS(rfl_check_ex_odds_json(hero, "persuade-merchant", 0, &opposed, &json), RFL_NOTFOUND);

    /* Misuse of options. */
    rfl_check_options broken = RFL_CHECK_OPTIONS_INIT;
    broken.version = 99;
    CHECK_STATUS(rfl_check_ex(hero, "eavesdrop", 10, &broken, rng, &total, &outcome), RFL_MISUSE);
    CHECK_MESSAGE("options->version is 99");
    CHECK_STATUS(rfl_check_options_init(&broken, 2), RFL_MISUSE);
    CHECK_STATUS(rfl_check_options_init(NULL, RFL_CHECK_OPTIONS_VERSION), RFL_MISUSE);
    broken = (rfl_check_options)RFL_CHECK_OPTIONS_INIT;
    broken.tag_count = 2;
    CHECK_STATUS(rfl_check_ex_json(hero, "eavesdrop", 10, &broken, rng, &json), RFL_MISUSE);
    CHECK_MESSAGE("options->tags is NULL with tag_count 2");
    const char *null_tag[] = {NULL};
    broken.tags = null_tag;
    broken.tag_count = 1;
    CHECK_STATUS(rfl_check_ex_odds_json(hero, "eavesdrop", 10, &broken, &json), RFL_MISUSE);
    broken = (rfl_check_options)RFL_CHECK_OPTIONS_INIT;
    broken.opponent = (const rfl_character *)rules;
    CHECK_STATUS(rfl_check_ex(hero, "eavesdrop", 10, &broken, rng, &total, &outcome), RFL_MISUSE);
    CHECK_MESSAGE("options->opponent is not a live rfl_character");
    broken = (rfl_check_options)RFL_CHECK_OPTIONS_INIT;
    broken.opponent_check_id = "eavesdrop";
    CHECK_STATUS(rfl_check_ex(hero, "eavesdrop", 10, &broken, rng, &total, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check_ex(NULL, "eavesdrop", 10, NULL, rng, &total, &outcome), RFL_MISUSE);
    CHECK_STATUS(rfl_check_ex_json(hero, NULL, 10, NULL, rng, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_check_ex_odds_json(hero, "eavesdrop", 10, NULL, NULL), RFL_MISUSE);

    /* A source for a number of rounds. */
    int64_t value = 0;
    CHECK_OK(rfl_character_apply_for(hero, "confident", 2));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 3);
    CHECK_OK(rfl_character_advance(hero, 1));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 3);
    CHECK_OK(rfl_character_advance(hero, 1));
    CHECK_OK(rfl_character_get(hero, "speaking", &value));
    CHECK(value == 2);
    CHECK_STATUS(rfl_character_apply_for(hero, "confident", 0), RFL_MISUSE);
    CHECK_STATUS(rfl_character_apply_for(hero, "confidant", 1), RFL_NOTFOUND);
    CHECK_STATUS(rfl_character_apply_for(NULL, "confident", 1), RFL_MISUSE);

    /* The catalog, in Spanish. */
    CHECK_OK(rfl_ruleset_catalog_json(rules, "es", &json));
    CHECK(json != NULL && strstr(json, "{\"id\":\"core:speaking\",\"name\":\"Expresión oral\"") != NULL);
    CHECK(strstr(json, "\"id\":\"night-market:night-owl\"") != NULL && strstr(json, "\"when\":[\"night\"]") != NULL);
    rfl_free(json);
    CHECK_STATUS(rfl_ruleset_catalog_json(rules, NULL, &json), RFL_MISUSE);
    CHECK_STATUS(rfl_ruleset_catalog_json(NULL, "en", &json), RFL_MISUSE);
    CHECK_STATUS(rfl_ruleset_catalog_json(rules, "en", NULL), RFL_MISUSE);

    rfl_character_free(rival);
    rfl_character_free(hero);
    rfl_ruleset_free(rules);
    rfl_rng_free(rng);
}

static void test_errmsg_is_per_thread_and_sticky(void) {
    rfl_expr *expr = NULL;
    CHECK_STATUS(rfl_expr_compile("1d", &expr), RFL_SYNTAX);
    const char *first = rfl_errmsg();
    CHECK(strstr(first, "column 3") != NULL);
    /* A successful call leaves the last error as it was. */
    CHECK_OK(rfl_expr_compile("1d6", &expr));
    CHECK(strstr(rfl_errmsg(), "column 3") != NULL);
    rfl_expr_free(expr);
}

int main(void) {
    test_versions();
    test_rng();
    test_expressions();
    test_rulesets_and_checks();
    test_pack_errors();
    test_check_options_and_catalog();
    test_errmsg_is_per_thread_and_sticky();
    printf("%d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
