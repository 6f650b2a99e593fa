/*
 * rfl.h — the C interface of Roll for Language's game-rules engine (librfl).
 *
 * Conventions (after SQLite and libgit2):
 *  - Every fallible function returns an rfl_status; RFL_OK is 0. Results are written through
 *    out-parameters, which come last. On failure, out-parameters are left as they were and
 *    rfl_errmsg() describes the problem.
 *  - Handles are opaque. Every rfl_*_new, rfl_*_compile and rfl_*_load has an rfl_*_free, which
 *    accepts NULL. A NULL handle, a NULL out-parameter or a handle of the wrong type is
 *    RFL_MISUSE, never a crash. (A pointer that the library never handed out is undefined
 *    behaviour, as in every C library; a freed handle is detected in most cases.)
 *  - Strings handed out (every char ** out-parameter) are allocated by the library; the caller
 *    frees them with rfl_free(). Strings passed in are copied; they must be valid UTF-8 and
 *    NUL-terminated unless a length is given.
 *  - Threads: rfl_expr and rfl_ruleset are immutable and may be shared between threads.
 *    An rfl_rng or an rfl_character is used by one thread at a time (give each thread its own;
 *    rfl_rng_split hands out independent streams).
 *  - The same seed gives the same values through C as through Swift, the rfl command line and
 *    the HTTP server (the generator and the draw order are documented in docs/dice.md).
 *
 * ABI stability: rfl_abi_version() changes only on an incompatible change, and then so does the
 * library's SONAME (librfl.so.N). Within one ABI version, functions and status codes are only
 * ever added; a shipped signature never changes. Callers treat an unknown status as an error.
 *
 * Ownership in one line per function: see each declaration. docs/c-api.md is the guide.
 */
#ifndef RFL_H
#define RFL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes; rfl_abi_version() returns the library's. */
#define RFL_ABI_VERSION 1

/* ---------------------------------------------------------------------------------------- */
/* Versions, status codes, errors, memory                                                   */
/* ---------------------------------------------------------------------------------------- */

/** The library's version, "MAJOR.MINOR.PATCH". Static storage: do not free. */
const char *rfl_version(void);

/** The library's ABI version; compare with RFL_ABI_VERSION. */
int rfl_abi_version(void);

/** Result codes. The list is append-only and never renumbered. */
typedef enum rfl_status {
    RFL_OK = 0,       /**< Success. */
    RFL_ERROR = 1,    /**< An error that fits no other code. */
    RFL_MISUSE = 2,   /**< A NULL or invalid argument, a handle of the wrong type. */
    RFL_SYNTAX = 3,   /**< A dice expression or formula does not parse; the message names the column. */
    RFL_INVALID = 4,  /**< Input that parses but is invalid (a d0, a reroll that never stops, a pack error). */
    RFL_NOTFOUND = 5, /**< An id names nothing (a stat, check or item). */
    RFL_LIMIT = 6,    /**< A configured limit was exceeded; the message names it and its value. */
    RFL_IO = 7,       /**< A file could not be read. */
    RFL_NOMEM = 8     /**< Memory ran out. */
} rfl_status;

/**
 * The message of the last failed call on the calling thread, "" if none has failed.
 * Owned by the library; valid until the next failing call on the same thread. Do not free.
 */
const char *rfl_errmsg(void);

/** A constant name for a status: "RFL_OK", "RFL_SYNTAX"…; "RFL_UNKNOWN" for others. Do not free. */
const char *rfl_status_name(rfl_status status);

/** Frees a string or buffer the library handed out. Accepts NULL. */
void rfl_free(void *p);

/* ---------------------------------------------------------------------------------------- */
/* Limits                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/** The current version of rfl_limits; set .version to it (rfl_limits_default does). */
#define RFL_LIMITS_VERSION 1

/** Bounds on the work one expression, roll or odds computation may ask (docs/dice.md#limits). */
typedef struct rfl_limits {
    uint32_t version;              /**< RFL_LIMITS_VERSION. */
    int64_t max_expression_length; /**< Bytes of UTF-8 in one expression (default 1000). */
    int64_t max_nesting;           /**< Depth of parentheses, calls and groups (default 32). */
    int64_t max_dice;              /**< Dice one roll may start (default 10000). */
    int64_t max_sides;             /**< Sides on one die (default 1000000). */
    int64_t max_explosions;        /**< Explosions one die may chain (default 100). */
    int64_t max_rerolls;           /**< Rerolls of one draw (default 100). */
    int64_t max_group_size;        /**< Items in one group (default 100). */
    int64_t max_odds_work;         /**< Elementary steps of one odds computation (default 100000000). */
    int64_t max_odds_support;      /**< Values one distribution may span (default 10000000). */
} rfl_limits;

/** Fills *out with the default limits and the current version. */
rfl_status rfl_limits_default(rfl_limits *out);

/* ---------------------------------------------------------------------------------------- */
/* The generator                                                                            */
/* ---------------------------------------------------------------------------------------- */

/** A seeded generator: xoshiro256** seeded through SplitMix64. One thread at a time. */
typedef struct rfl_rng rfl_rng;

/** A new generator seeded with `seed`. The caller frees *out with rfl_rng_free(). */
rfl_status rfl_rng_new(uint64_t seed, rfl_rng **out);

/** A copy of `rng` in its current state (the same draws follow). Free *out with rfl_rng_free(). */
rfl_status rfl_rng_clone(const rfl_rng *rng, rfl_rng **out);

/**
 * Hands out an independent stream: *out continues from rng's current state, and rng jumps
 * 2^128 draws ahead, so repeated calls give non-overlapping streams. Free *out with rfl_rng_free().
 */
rfl_status rfl_rng_split(rfl_rng *rng, rfl_rng **out);

/** Advances rng by 2^128 draws (rfl_rng_jump) or 2^192 draws (rfl_rng_long_jump). */
rfl_status rfl_rng_jump(rfl_rng *rng);
rfl_status rfl_rng_long_jump(rfl_rng *rng);

/** The raw generator: the next 64-bit output. Returns 0 and sets the message when rng is invalid. */
uint64_t rfl_rng_next(rfl_rng *rng);

/** A uniform integer in [0, bound), unbiased (Lemire). bound 0 is RFL_INVALID. */
rfl_status rfl_rng_uniform(rfl_rng *rng, uint64_t bound, uint64_t *out);

/** One die with `sides` faces (1 to 1000000000): 1 + uniform(sides). */
rfl_status rfl_rng_die(rfl_rng *rng, int64_t sides, int64_t *out);

/** The full state, four 64-bit words, for an exact replay with rfl_rng_set_state. */
rfl_status rfl_rng_get_state(const rfl_rng *rng, uint64_t state[4]);

/** Restores a state from rfl_rng_get_state. The all-zero state is RFL_INVALID. */
rfl_status rfl_rng_set_state(rfl_rng *rng, const uint64_t state[4]);

/** Frees a generator. Accepts NULL. */
void rfl_rng_free(rfl_rng *rng);

/* ---------------------------------------------------------------------------------------- */
/* Dice expressions                                                                         */
/* ---------------------------------------------------------------------------------------- */

/** A compiled dice expression (docs/dice.md). Immutable: share it between threads freely. */
typedef struct rfl_expr rfl_expr;

/**
 * Compiles `source` with the default limits. RFL_SYNTAX, RFL_INVALID or RFL_LIMIT on bad input,
 * with the column in the message. The caller frees *out with rfl_expr_free().
 */
rfl_status rfl_expr_compile(const char *source, rfl_expr **out);

/** As rfl_expr_compile, under `limits` (NULL for the defaults). */
rfl_status rfl_expr_compile_with_limits(const char *source, const rfl_limits *limits, rfl_expr **out);

/** Rolls the expression and writes its total. RFL_NOTFOUND if it reads @stats (use _with_stats). */
rfl_status rfl_expr_roll(const rfl_expr *expr, rfl_rng *rng, int64_t *total);

/**
 * Rolls with values for the expression's @stat references, given in the order of
 * rfl_expr_stat_name (count must equal rfl_expr_stat_count).
 */
rfl_status rfl_expr_roll_with_stats(const rfl_expr *expr, const int64_t *values, size_t count, rfl_rng *rng, int64_t *total);

/**
 * Rolls and writes JSON with the total and every die: {"total":T,"dice":[…]}, as one element of
 * `rfl roll --json`. Draws exactly what rfl_expr_roll draws. The caller frees *json with rfl_free().
 */
rfl_status rfl_expr_roll_json(const rfl_expr *expr, rfl_rng *rng, char **json);

/**
 * The exact distribution as JSON, the same as `rfl odds --json`:
 * {"expression":…,"distribution":[{"value":V,"probability":P},…],"mean":M,"stddev":S,"min":…,
 * "max":…,"truncated":T}. RFL_LIMIT when it would exceed the limits. Free *json with rfl_free().
 */
rfl_status rfl_expr_odds_json(const rfl_expr *expr, char **json);

/** As rfl_expr_roll_json, with values for the @stat references as in rfl_expr_roll_with_stats. */
rfl_status rfl_expr_roll_json_with_stats(const rfl_expr *expr, const int64_t *values, size_t count, rfl_rng *rng, char **json);

/** As rfl_expr_odds_json, with values for the @stat references as in rfl_expr_roll_with_stats. */
rfl_status rfl_expr_odds_json_with_stats(const rfl_expr *expr, const int64_t *values, size_t count, char **json);

/** The probability that the expression reaches `target` (rolls target or more). */
rfl_status rfl_expr_odds_at_least(const rfl_expr *expr, int64_t target, double *probability);

/** The number of distinct @stat references. */
rfl_status rfl_expr_stat_count(const rfl_expr *expr, size_t *count);

/** The id of @stat reference `index`. *name is owned by expr and lives as long as it. */
rfl_status rfl_expr_stat_name(const rfl_expr *expr, size_t index, const char **name);

/** Frees an expression. Accepts NULL. */
void rfl_expr_free(rfl_expr *expr);

/* ---------------------------------------------------------------------------------------- */
/* Rulesets                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/** Rules loaded from XML content packs (docs/packs.md). Immutable: share it between threads. */
typedef struct rfl_ruleset rfl_ruleset;

/**
 * Loads pack files, and the .xml files in folders, as one ruleset in dependency order.
 * On failure (RFL_INVALID, RFL_IO, RFL_LIMIT) the message gives the first problem as
 * path:line:column: error: message; rfl_ruleset_validate_json lists them all.
 * The caller frees *out with rfl_ruleset_free().
 */
rfl_status rfl_ruleset_load(const char *const *paths, size_t count, rfl_ruleset **out);

/** Loads one pack (with no dependencies) from `length` bytes of XML. Free *out with rfl_ruleset_free(). */
rfl_status rfl_ruleset_load_xml(const char *xml, size_t length, rfl_ruleset **out);

/**
 * Validates pack files or folders without loading them: writes every diagnostic as JSON,
 * [{"path":…,"line":L,"column":C,"severity":"error"|"warning","code":…,"message":…},…],
 * and sets *errors to the number of errors. The caller frees *json with rfl_free().
 */
rfl_status rfl_ruleset_validate_json(const char *const *paths, size_t count, char **json, size_t *errors);

/**
 * The name of a stat, skill, derived value, check or source in `language` (such as "es"),
 * falling back to the pack's language, then English. RFL_NOTFOUND for an unknown id.
 * The caller frees *name with rfl_free().
 */
rfl_status rfl_ruleset_name(const rfl_ruleset *ruleset, const char *id, const char *language, char **name);

/**
 * Everything the loaded packs define, with names and descriptions in `language`, as JSON:
 * {"language":…,"packs":[{"id","version","title"}],"stats":[{"id","name","description",
 * "default","minimum","maximum"}],"skills":[…],"derived":[{…,"formula"}],
 * "modifier_types":[{…,"stacking"}],"checks":[{…,"dice","adds","tags","bands":[{"id","name",
 * "from"}]}],"sources":[{…,"kind","modifiers":[{"target","value"|"effect","type","when",
 * "duration"}]}]} (docs/packs.md). Ids are full ("core:speaking"). Free *json with rfl_free().
 */
rfl_status rfl_ruleset_catalog_json(const rfl_ruleset *ruleset, const char *language, char **json);

/** Frees a ruleset. Accepts NULL. Characters made from it keep what they need alive. */
void rfl_ruleset_free(rfl_ruleset *ruleset);

/* ---------------------------------------------------------------------------------------- */
/* Characters and checks                                                                    */
/* ---------------------------------------------------------------------------------------- */

/** A character under a ruleset: base values and active modifiers. One thread at a time. */
typedef struct rfl_character rfl_character;

/** A character with every stat and skill at its default. Free *out with rfl_character_free(). */
rfl_status rfl_character_new(const rfl_ruleset *ruleset, rfl_character **out);

/** A copy of a character. Free *out with rfl_character_free(). */
rfl_status rfl_character_clone(const rfl_character *ch, rfl_character **out);

/**
 * Sets the base value of a stat or skill (ids may omit their pack when unambiguous: "speaking"
 * for "core:speaking"). RFL_INVALID outside the stat's bounds or for a derived value.
 */
rfl_status rfl_character_set(rfl_character *ch, const char *stat_id, int64_t value);

/** The total of a stat, skill or derived value, with its modifiers. */
rfl_status rfl_character_get(const rfl_character *ch, const char *id, int64_t *value);

/** Applies an item, condition, feat or other source; applying it again renews it. */
rfl_status rfl_character_apply(rfl_character *ch, const char *source_id);

/**
 * Applies a source for `rounds` rounds (1 or more): every modifier it brings lasts that long,
 * whatever duration the pack gives it. RFL_MISUSE for rounds below 1.
 */
rfl_status rfl_character_apply_for(rfl_character *ch, const char *source_id, int rounds);

/** Removes what a source brought. RFL_NOTFOUND when it is not applied. */
rfl_status rfl_character_remove(rfl_character *ch, const char *source_id);

/** Advances time by `rounds` (0 or more): modifiers with a duration run down and end. */
rfl_status rfl_character_advance(rfl_character *ch, int rounds);

/**
 * A value's breakdown as JSON: {"id":…,"kind":…,"base":B,"total":T,"modifiers":[{"source":…,
 * "type":…,"value":V,"status":"applied"|"suppressed"|"inactive",…},…]}. Free *json with rfl_free().
 */
rfl_status rfl_character_breakdown_json(const rfl_character *ch, const char *id, char **json);

/**
 * Rolls a check against difficulty `dc`. `advantage` is positive for advantage, negative for
 * disadvantage, 0 for neither (modifiers may add either; both cancel). Writes the total and the
 * outcome band's index (0 the worst; see rfl_check_json for its id). Draws exactly what
 * rfl_check_json draws.
 */
rfl_status rfl_check(const rfl_character *ch, const char *check_id, int64_t dc, int advantage,
                     rfl_rng *rng, int64_t *total, int *outcome);

/**
 * Rolls a check and writes the whole result as JSON: total, natural roll, margin, band index and
 * id, the rolls with every die, and the breakdown of everything that added. Free *json with rfl_free().
 */
rfl_status rfl_check_json(const rfl_character *ch, const char *check_id, int64_t dc, int advantage,
                          rfl_rng *rng, char **json);

/**
 * The exact probability of every outcome band as JSON:
 * {"check":…,"dc":…,"advantage":…,"bands":[{"id":…,"probability":P},…],"reach":R,"total":{…}}.
 * Free *json with rfl_free().
 */
rfl_status rfl_check_odds_json(const rfl_character *ch, const char *check_id, int64_t dc, int advantage, char **json);

/** The current version of rfl_check_options. */
#define RFL_CHECK_OPTIONS_VERSION 1

/**
 * How to roll a check, for the rfl_check_ex functions. Initialise it with RFL_CHECK_OPTIONS_INIT
 * or rfl_check_options_init() and then set what you need; a NULL options pointer means all
 * defaults. New fields are added only at the end, with a new version.
 */
typedef struct rfl_check_options {
    unsigned int version;                 /**< RFL_CHECK_OPTIONS_VERSION. */
    int advantage;                        /**< > 0 advantage, < 0 disadvantage, 0 neither. */
    const char *const *tags;              /**< Tags of the situation ("market", "night"), added to the check's own. */
    size_t tag_count;                     /**< Entries in tags (at most 1024). */
    const rfl_character *opponent;        /**< Not NULL: an opposed check against this character; dc is then ignored. */
    const char *opponent_check_id;        /**< The opponent's check; NULL for the same check. */
    int opponent_advantage;               /**< The opponent's advantage, as `advantage`. */
} rfl_check_options;

/** Default check options: no advantage, no tags, against the difficulty. */
#define RFL_CHECK_OPTIONS_INIT { RFL_CHECK_OPTIONS_VERSION, 0, NULL, 0, NULL, NULL, 0 }

/** Sets *options to the defaults of `version` (pass RFL_CHECK_OPTIONS_VERSION). */
rfl_status rfl_check_options_init(rfl_check_options *options, unsigned int version);

/**
 * rfl_check with options: situation tags (which switch on modifiers conditional on them), and
 * opposed checks, where this character rolls first, then the opponent, and the margin is this
 * total minus the opponent's (a tie is 0). `options` may be NULL.
 */
rfl_status rfl_check_ex(const rfl_character *ch, const char *check_id, int64_t dc, const rfl_check_options *options,
                        rfl_rng *rng, int64_t *total, int *outcome);

/** rfl_check_json with options; an opposed check's JSON has the opponent's roll under "opponent". */
rfl_status rfl_check_ex_json(const rfl_character *ch, const char *check_id, int64_t dc, const rfl_check_options *options,
                             rfl_rng *rng, char **json);

/** rfl_check_odds_json with options: exact odds with tags, and of opposed checks ("dc" is then null). */
rfl_status rfl_check_ex_odds_json(const rfl_character *ch, const char *check_id, int64_t dc, const rfl_check_options *options,
                                  char **json);

/** Frees a character. Accepts NULL. */
void rfl_character_free(rfl_character *ch);

#ifdef __cplusplus
}
#endif

#endif /* RFL_H */
