import ContentPacks
import Foundation
import Mechanics
import Testing
@testable import ReferenceServer

/// The contract's types for the engine's results write what the engine writes: the same JSON,
/// nulls and left-out fields included, for rolls, checks, odds and catalogs of the bundled packs.
@Suite struct EngineJSONTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The JSON value of `text`, for comparing documents whatever their key order and spacing.
    static func value(_ text: String) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? NSObject ?? NSNull()
    }

    static func encoded(_ value: some Encodable) throws -> NSObject {
        try Self.value(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
    }

    /// Encodes, decodes and encodes again: what the log stores reads back as it was.
    static func roundTrip<T: Codable & Equatable>(_ value: T) throws -> Bool {
        try JSONDecoder().decode(T.self, from: try JSONEncoder().encode(value)) == value
    }

    @Test func rollsAreTheEnginesJSON() throws {
        let expressions = ["1d20+5", "4d6kh3", "3d6!", "5d10>=8f1", "2d20kl1", "4dF", "1d%", "6d6r1", "3d6!!", "10d10>=7dbl10", "2d6ro<2+1d4", "@str+1d8"]
        for text in expressions {
            let expression = try DiceExpression(text)
            for seed in UInt64(1)...40 {
                var rng = RNG(seed: seed)
                let roll = try expression.rollDetailed(using: &rng, stats: ["str": 3])
                let typed = Engine.Roll(roll)
                #expect(try Self.encoded(typed) == Self.value(roll.json), "\(text) seed \(seed)")
                #expect(try Self.roundTrip(typed))
            }
        }
    }

    @Test func checksOddsAndCatalogsAreTheEnginesJSON() throws {
        let loaded = try PackLoader().load(paths: [Self.root.appendingPathComponent("rulesets").path])
        var sheet = CharacterSheet(ruleset: loaded.ruleset)
        var other = CharacterSheet(ruleset: loaded.ruleset)
        for (index, stat) in (loaded.ruleset.stats + loaded.ruleset.skills).enumerated() {
            try? sheet.set(stat.id, to: Int64(index % 5))
            try? other.set(stat.id, to: Int64(index % 3))
        }
        // Sources bring modifiers of every kind: typed, conditional, limited, advantage.
        for source in loaded.ruleset.sources.prefix(6) { try? sheet.apply(source.id, duration: 2) }
        #expect(!loaded.ruleset.checks.isEmpty)
        for check in loaded.ruleset.checks {
            for seed in UInt64(1)...20 {
                var rng = RNG(seed: seed)
                let result = try sheet.check(check.id, dc: Int64(seed % 25), advantage: Int(seed % 3) - 1, using: &rng)
                #expect(try Self.encoded(Engine.CheckResult(result)) == Self.value(result.json), "\(check.id) seed \(seed)")
                let opposed = try sheet.check(check.id, against: other, using: &rng)
                let typed = Engine.CheckResult(opposed)
                #expect(typed.opponent != nil)
                #expect(try Self.encoded(typed) == Self.value(opposed.json), "\(check.id) opposed, seed \(seed)")
                #expect(try Self.roundTrip(typed))
            }
            let odds = try sheet.checkOdds(check.id, dc: 12, advantage: 1)
            #expect(try Self.encoded(Engine.Odds.check(Engine.CheckOdds(odds))) == Self.value(odds.json))
            let opposedOdds = try sheet.checkOdds(check.id, against: other)
            #expect(try Self.encoded(Engine.CheckOdds(opposedOdds)) == Self.value(opposedOdds.json))
            #expect(try Self.roundTrip(Engine.Odds.check(Engine.CheckOdds(opposedOdds))))
        }
        for text in ["4d6kh3", "3d6!", "2d20kh1+5", "10d10>=7"] {
            let distribution = try DiceExpression(text).odds()
            let typed = Engine.Odds.expression(Engine.ExpressionOdds(expression: text, distribution))
            #expect(try Self.encoded(typed) == Self.value(distribution.json(expression: text)), "\(text)")
            #expect(try Self.roundTrip(typed))
        }
        // A language the packs have, and one they lack (names fall back, or are null).
        for language in ["en", "es", "zz"] {
            let catalog = Engine.Catalog(loaded, language: language)
            #expect(try Self.encoded(catalog) == Self.value(loaded.catalogJSON(language: language)), "\(language)")
            #expect(try Self.roundTrip(catalog))
        }
    }

    /// What the log stores reads back by its kind; a kind it does not know, or a payload that is
    /// not its kind's, is an error that names the kind.
    @Test func storedPayloadsReadByKind() throws {
        let member = try LogPayload.stored(kind: "member.joined", json: #"{"user":"u1","username":"ana","role":"player"}"#)
        guard case .MemberPayload(let joined) = member else { Issue.record("not a member payload"); return }
        #expect(joined.user == "u1" && joined.role == .player)
        #expect(try LogPayload.stored(kind: "campaign.archived", json: "{}") == .ArchivedPayload(.init()))
        #expect(throws: ServiceFailure.self) { try LogPayload.stored(kind: "roll", json: #"{"user":"u1"}"#) }
        #expect(throws: ServiceFailure.self) { try LogPayload.stored(kind: "member.joined", json: #"{"user":"u1","extra":1}"#) }
        #expect(throws: ServiceFailure.self) { try LogPayload.stored(kind: "weather", json: "{}") }
        let error = try? #require(throws: ServiceFailure.self) { try LogPayload.stored(kind: "check", json: "[]") }
        #expect(error?.description.contains("'check'") == true)
    }
}
