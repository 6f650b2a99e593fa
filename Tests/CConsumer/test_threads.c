/* Threads share one ruleset and one compiled expression; each has its own generator and
 * character. Every thread must get exactly what one thread gets alone with the same seeds. */
#include "rfl.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 8
#define ROLLS 20000

static const rfl_expr *shared_expr;
static const rfl_ruleset *shared_rules;

typedef struct {
    uint64_t seed;
    int64_t roll_sum;
    int64_t check_sum;
    int failed;
} work;

static void run(work *w) {
    rfl_rng *rng = NULL;
    rfl_character *hero = NULL;
    w->roll_sum = 0;
    w->check_sum = 0;
    w->failed = rfl_rng_new(w->seed, &rng) != RFL_OK || rfl_character_new(shared_rules, &hero) != RFL_OK ||
                rfl_character_set(hero, "speaking", (int64_t)(w->seed % 10)) != RFL_OK;
    for (int i = 0; i < ROLLS && !w->failed; i++) {
        int64_t total = 0;
        int outcome = 0;
        if (rfl_expr_roll(shared_expr, rng, &total) != RFL_OK) w->failed = 1;
        w->roll_sum += total;
        if (rfl_check(hero, "persuade-merchant", 15, (i % 3) - 1, rng, &total, &outcome) != RFL_OK) w->failed = 1;
        w->check_sum += total * 4 + outcome;
        /* Errors stay on their thread. */
        if (i == ROLLS / 2 && rfl_character_set(hero, "nothing", 1) != RFL_NOTFOUND) w->failed = 1;
    }
    if (strstr(rfl_errmsg(), "nothing") == NULL) w->failed = 1;
    rfl_character_free(hero);
    rfl_rng_free(rng);
}

static void *thread_main(void *argument) {
    run((work *)argument);
    return NULL;
}

int main(void) {
    rfl_expr *expr = NULL;
    rfl_ruleset *rules = NULL;
    const char *paths[] = {RULESETS};
    if (rfl_expr_compile("4d6kh3 + {2d10, 1d20}kh1 + 3d6!", &expr) != RFL_OK || rfl_ruleset_load(paths, 1, &rules) != RFL_OK) {
        fprintf(stderr, "setup failed: %s\n", rfl_errmsg());
        return 1;
    }
    shared_expr = expr;
    shared_rules = rules;

    work alone[THREADS], together[THREADS];
    for (int t = 0; t < THREADS; t++) {
        alone[t].seed = together[t].seed = 1000 + (uint64_t)t;
        run(&alone[t]);
    }
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&threads[t], NULL, thread_main, &together[t]);
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);

    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        if (alone[t].failed || together[t].failed || alone[t].roll_sum != together[t].roll_sum || alone[t].check_sum != together[t].check_sum) {
            fprintf(stderr, "thread %d: alone %lld/%lld, together %lld/%lld, failed %d/%d\n", t, (long long)alone[t].roll_sum,
                    (long long)alone[t].check_sum, (long long)together[t].roll_sum, (long long)together[t].check_sum, alone[t].failed,
                    together[t].failed);
            failures++;
        }
    }
    rfl_expr_free(expr);
    rfl_ruleset_free(rules);
    printf("%d threads x %d rolls and checks: %d mismatches\n", THREADS, ROLLS, failures);
    return failures == 0 ? 0 : 1;
}
