import ContentPacks
import Foundation
import Mechanics

/// The engine's results as the contract types them (openapi.yaml's `Roll`, `CheckResult`, `Odds`
/// and `Catalog`, which the generator is told to take from here): the JSON the engine writes for
/// the command line and the C ABI, field for field, a null included, as Codable values the server
/// writes with the rest of its JSON. The engine's own writers stay the reference; a test holds
/// each of these to them.
enum Engine {
    /// A roll with every die: `{"total","dice":[…]}`.
    struct Roll: Codable, Hashable, Sendable {
        /// `rerolled`, `exploded`, `explosion`, `success` and `failure` are left out when they do
        /// not apply, as the engine leaves them out.
        struct Die: Codable, Hashable, Sendable {
            var die: String
            var column: Int
            var faces: [Int64]
            var value: Int64
            var kept: Bool
            var rerolled: [Int64]?
            var exploded: Bool?
            var explosion: Bool?
            var success: Int?
            var failure: Bool?
        }

        var total: Int64
        var dice: [Die]

        init(_ roll: Mechanics.Roll) {
            total = roll.total
            dice = roll.dice.map {
                Die(die: $0.label, column: $0.column, faces: $0.faces, value: $0.value, kept: $0.kept,
                    rerolled: $0.rerolled.isEmpty ? nil : $0.rerolled, exploded: $0.exploded ? true : nil,
                    explosion: $0.fromExplosion ? true : nil, success: $0.successes > 0 ? $0.successes : nil,
                    failure: $0.failure ? true : nil)
            }
        }
    }

    /// One modifier as it bears on a value or a check: `value` for a bonus or penalty, `effect`
    /// for advantage or disadvantage.
    struct ModifierLine: Codable, Hashable, Sendable {
        var source: String
        @Nullable var type: String?
        var value: Int64?
        var effect: String?
        var status: String
        var when: [String]
        @Nullable var remaining: Int?

        init(_ line: Mechanics.ModifierLine) {
            source = line.source
            type = line.type
            switch line.effect {
            case .add(let value): self.value = value
            case .advantage: effect = "advantage"
            case .disadvantage: effect = "disadvantage"
            }
            status = line.status.rawValue
            when = line.when
            remaining = line.remaining
        }
    }

    /// A value a check adds, with everything that makes it up.
    struct ValueBreakdown: Codable, Hashable, Sendable {
        var id: String
        var kind: String
        var base: Int64
        var formula: String?
        var total: Int64
        var modifiers: [ModifierLine]

        init(_ value: Mechanics.ValueBreakdown) {
            id = value.id
            kind = value.kind.rawValue
            base = value.base
            formula = value.formula
            total = value.total
            modifiers = value.modifiers.map(ModifierLine.init)
        }
    }

    /// A check's result; an opposed check's holds the opponent's.
    struct CheckResult: Codable, Hashable, Sendable {
        var check: String
        @Nullable var dc: Int64?
        var advantage: String
        var total: Int64
        var natural: Int64
        var margin: Int64
        var band: Int
        var bandId: String
        var bandBeforeNaturalRule: Int
        @Nullable var naturalRule: Int?
        var rolls: [Roll]
        var keptRoll: Int
        var contributions: [ValueBreakdown]
        var modifiers: [ModifierLine]
        /// The opponent's result, stored in an array for the indirection a struct that holds its
        /// own type needs; left out of the JSON when there is none.
        private var opposed: [CheckResult]

        var opponent: CheckResult? { opposed.first }

        init(_ result: Mechanics.CheckResult) {
            check = result.check
            dc = result.dc
            advantage = result.advantage.rawValue
            total = result.total
            natural = result.natural
            margin = result.margin
            band = result.band
            bandId = result.bandId
            bandBeforeNaturalRule = result.bandBeforeNaturalRule
            naturalRule = result.naturalRule
            rolls = result.rolls.map(Roll.init)
            keptRoll = result.keptRoll
            contributions = result.contributions.map(ValueBreakdown.init)
            modifiers = result.modifiers.map(ModifierLine.init)
            opposed = result.opponent.map { [CheckResult($0.result)] } ?? []
        }

        private enum CodingKeys: String, CodingKey {
            case check, dc, advantage, total, natural, margin, band, rolls, contributions, modifiers, opponent
            case bandId = "band_id", bandBeforeNaturalRule = "band_before_natural_rule", naturalRule = "natural_rule", keptRoll = "kept_roll"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            check = try container.decode(String.self, forKey: .check)
            _dc = try container.decode(Nullable<Int64>.self, forKey: .dc)
            advantage = try container.decode(String.self, forKey: .advantage)
            total = try container.decode(Int64.self, forKey: .total)
            natural = try container.decode(Int64.self, forKey: .natural)
            margin = try container.decode(Int64.self, forKey: .margin)
            band = try container.decode(Int.self, forKey: .band)
            bandId = try container.decode(String.self, forKey: .bandId)
            bandBeforeNaturalRule = try container.decode(Int.self, forKey: .bandBeforeNaturalRule)
            _naturalRule = try container.decode(Nullable<Int>.self, forKey: .naturalRule)
            rolls = try container.decode([Roll].self, forKey: .rolls)
            keptRoll = try container.decode(Int.self, forKey: .keptRoll)
            contributions = try container.decode([ValueBreakdown].self, forKey: .contributions)
            modifiers = try container.decode([ModifierLine].self, forKey: .modifiers)
            opposed = try container.decodeIfPresent(CheckResult.self, forKey: .opponent).map { [$0] } ?? []
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(check, forKey: .check)
            try container.encode(_dc, forKey: .dc)
            try container.encode(advantage, forKey: .advantage)
            try container.encode(total, forKey: .total)
            try container.encode(natural, forKey: .natural)
            try container.encode(margin, forKey: .margin)
            try container.encode(band, forKey: .band)
            try container.encode(bandId, forKey: .bandId)
            try container.encode(bandBeforeNaturalRule, forKey: .bandBeforeNaturalRule)
            try container.encode(_naturalRule, forKey: .naturalRule)
            try container.encode(rolls, forKey: .rolls)
            try container.encode(keptRoll, forKey: .keptRoll)
            try container.encode(contributions, forKey: .contributions)
            try container.encode(modifiers, forKey: .modifiers)
            try container.encodeIfPresent(opponent, forKey: .opponent)
        }
    }

    /// A possible total with its probability.
    struct Outcome: Codable, Hashable, Sendable {
        var value: Int64
        var probability: Double
    }

    /// The exact odds of a dice expression: `expression` beside its totals' fields, in one
    /// object.
    struct ExpressionOdds: Codable, Hashable, Sendable {
        var expression: String
        var totals: Totals

        init(expression: String, _ distribution: Mechanics.Distribution) {
            self.expression = expression
            totals = Totals(distribution)
        }

        private enum CodingKeys: String, CodingKey { case expression }

        init(from decoder: any Decoder) throws {
            expression = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .expression)
            totals = try Totals(from: decoder)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(expression, forKey: .expression)
            try totals.encode(to: encoder)
        }
    }

    /// A distribution of totals with its moments and bounds (`truncated`: the probability the
    /// work limit left out).
    struct Totals: Codable, Hashable, Sendable {
        var distribution: [Outcome]
        var mean: Double
        var stddev: Double
        var min: Int64
        var max: Int64
        var truncated: Double

        init(_ distribution: Mechanics.Distribution) {
            self.distribution = distribution.outcomes.map { Outcome(value: $0.value, probability: $0.probability) }
            mean = distribution.mean
            stddev = distribution.standardDeviation
            min = distribution.minimum
            max = distribution.maximum
            truncated = distribution.truncated
        }
    }

    /// The exact odds of each outcome band of a check.
    struct CheckOdds: Codable, Hashable, Sendable {
        struct Band: Codable, Hashable, Sendable {
            var id: String
            var probability: Double
        }

        var check: String
        @Nullable var dc: Int64?
        var advantage: String
        var bands: [Band]
        /// The chance to reach the difficulty, or to beat the opponent.
        var reach: Double
        var total: Totals

        init(_ odds: Mechanics.CheckOdds) {
            check = odds.check
            dc = odds.dc
            advantage = odds.advantage.rawValue
            bands = odds.bands.map { Band(id: $0.id, probability: $0.probability) }
            reach = odds.reach
            total = Totals(odds.total)
        }
    }

    /// The odds of an expression or of a check.
    enum Odds: Codable, Hashable, Sendable {
        case expression(ExpressionOdds)
        case check(CheckOdds)

        private enum Key: String, CodingKey { case check }

        init(from decoder: any Decoder) throws {
            if try decoder.container(keyedBy: Key.self).contains(.check) {
                self = .check(try CheckOdds(from: decoder))
            } else {
                self = .expression(try ExpressionOdds(from: decoder))
            }
        }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .expression(let odds): try odds.encode(to: encoder)
            case .check(let odds): try odds.encode(to: encoder)
            }
        }
    }

    /// Everything a ruleset defines, named in one language (a name or description the packs give
    /// in no language is null), as `rfl pack catalog --json` prints it.
    struct Catalog: Codable, Hashable, Sendable {
        struct Pack: Codable, Hashable, Sendable {
            var id: String
            var version: String
            var title: String
        }

        struct Stat: Codable, Hashable, Sendable {
            var id: String
            @Nullable var name: String?
            @Nullable var description: String?
            var `default`: Int64
            @Nullable var minimum: Int64?
            @Nullable var maximum: Int64?
        }

        struct Derived: Codable, Hashable, Sendable {
            var id: String
            @Nullable var name: String?
            @Nullable var description: String?
            var formula: String
        }

        struct ModifierType: Codable, Hashable, Sendable {
            var id: String
            @Nullable var name: String?
            @Nullable var description: String?
            var stacking: String
        }

        struct Check: Codable, Hashable, Sendable {
            struct Band: Codable, Hashable, Sendable {
                var id: String
                @Nullable var name: String?
                @Nullable var from: Int64?
            }

            var id: String
            @Nullable var name: String?
            @Nullable var description: String?
            var dice: String
            var adds: [String]
            var tags: [String]
            var bands: [Band]
        }

        struct Source: Codable, Hashable, Sendable {
            /// `value` for a bonus or penalty, `effect` for advantage or disadvantage; `type`,
            /// `when` and `duration` only when the pack gives them.
            struct Modifier: Codable, Hashable, Sendable {
                var target: String
                var value: Int64?
                var effect: String?
                var type: String?
                var when: [String]?
                var duration: Int?
            }

            var id: String
            @Nullable var name: String?
            @Nullable var description: String?
            var kind: String
            var modifiers: [Modifier]
        }

        var language: String
        var packs: [Pack]
        var stats: [Stat]
        var skills: [Stat]
        var derived: [Derived]
        var modifierTypes: [ModifierType]
        var checks: [Check]
        var sources: [Source]

        private enum CodingKeys: String, CodingKey {
            case language, packs, stats, skills, derived, checks, sources
            case modifierTypes = "modifier_types"
        }

        init(_ loaded: LoadedRuleset, language: String) {
            let ruleset = loaded.ruleset
            func name(_ id: String) -> String? { loaded.name(of: id, language: language) }
            func description(_ id: String) -> String? { loaded.description(of: id, language: language) }
            func stat(_ stat: Ruleset.Stat) -> Stat {
                Stat(id: stat.id, name: name(stat.id), description: description(stat.id), default: stat.defaultValue,
                     minimum: stat.minimum, maximum: stat.maximum)
            }
            self.language = language
            packs = loaded.packs.map { Pack(id: $0.id, version: $0.version.description, title: $0.title(language)) }
            stats = ruleset.stats.map(stat)
            skills = ruleset.skills.map(stat)
            derived = ruleset.derived.map { Derived(id: $0.id, name: name($0.id), description: description($0.id), formula: $0.formula) }
            modifierTypes = ruleset.modifierTypes.map {
                ModifierType(id: $0.id, name: name($0.id), description: description($0.id), stacking: $0.stacking.rawValue)
            }
            checks = ruleset.checks.map { check in
                Check(id: check.id, name: name(check.id), description: description(check.id), dice: check.dice, adds: check.adds,
                      tags: check.tags.sorted(), bands: check.bands.map {
                          Check.Band(id: $0.id, name: loaded.bandName(check: check.id, band: $0.id, language: language), from: $0.from)
                      })
            }
            sources = ruleset.sources.map { source in
                Source(id: source.id, name: name(source.id), description: description(source.id), kind: source.kind, modifiers: source.modifiers.map {
                    var modifier = Source.Modifier(target: $0.target, type: $0.type, when: $0.when.isEmpty ? nil : $0.when.sorted(), duration: $0.duration)
                    switch $0.effect {
                    case .add(let value): modifier.value = value
                    case .advantage: modifier.effect = "advantage"
                    case .disadvantage: modifier.effect = "disadvantage"
                    }
                    return modifier
                })
            }
        }
    }
}

/// An optional that a synthesized `Encodable` writes as `null` when it is nil, where an optional
/// property's key would be left out: the engine's JSON writes these fields either way.
@propertyWrapper
struct Nullable<Value: Codable & Hashable & Sendable>: Codable, Hashable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A missing key reads as nil, as a null does.
    func decode<Value>(_ type: Nullable<Value>.Type, forKey key: Key) throws -> Nullable<Value> {
        Nullable(wrappedValue: try decodeIfPresent(Value.self, forKey: key))
    }
}
