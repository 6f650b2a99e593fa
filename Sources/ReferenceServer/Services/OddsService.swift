import ContentPacks
import Foundation
import Mechanics

/// Exact odds, and rolls stored nowhere: the odds of a dice expression, or of a check, for a
/// character of a campaign the caller plays in or for one made up on the rules of published
/// packs (the dice lab); and sample rolls with a seed the caller may give.
struct OddsService: Sendable {
    let campaigns: any CampaignStore
    let rules: CampaignRules
    let packs: PackLibrary
    /// The work an expression's odds may cost (`RFL_ODDS_MAX_WORK`).
    let maxOddsWork: Int

    /// Whose odds: nobody's, a campaign's character, or a character made up here on the rules of
    /// these packs, from its base values and the sources applied to it.
    enum Subject: Sendable {
        case nobody
        case campaign(id: String, character: String?)
        case madeUp(packs: [PackRequest], stats: [String: Int], apply: [String])
    }

    struct PackRequest: Sendable {
        var id: String
        var version: String?
    }

    /// The odds of what: an expression, or a check against a difficulty or another character of
    /// the campaign (who rolls `againstCheck`, the same check when nil).
    enum Question: Sendable {
        case expression(String)
        case check(id: String, dc: Int64?, against: String?, againstCheck: String?, advantage: Int, againstAdvantage: Int, tags: Set<String>)
    }

    func odds(of question: Question, for subject: Subject, by caller: Caller) async throws -> Engine.Odds {
        var loaded: LoadedRuleset?
        var sheet: CharacterSheet?
        var campaign: CampaignRecord?
        switch subject {
        case .nobody:
            break
        case .campaign(let id, let characterId):
            // A campaign that is not the caller's is answered as missing.
            guard let userId = caller.userId, let record = try await campaigns.membership(campaignId: id, userId: userId)?.campaign else {
                throw GameError.campaignNotFound
            }
            campaign = record
            let rules = try await rules.ruleset(of: record)
            loaded = rules
            if let characterId { sheet = try CampaignRules.sheet(try await self.rules.character(characterId, in: id), rules) }
        case .madeUp(let requested, let stats, let apply):
            let composed: LoadedRuleset
            do {
                composed = try await packs.ruleset(try await packs.resolve(requested: requested.map { ($0.id, $0.version) }))
            } catch let problem as PackLibrary.ResolutionProblem {
                throw GameError.packsUnresolved(field: problem.field, reason: problem.message)
            }
            var record = CharacterRecord(id: "", campaignId: "", ownerId: "", name: "", stats: [:], sources: [], version: 0,
                                         createdAt: .distantPast, updatedAt: .distantPast)
            record.stats = try CharacterService.checkedStats(stats, onto: record, composed)
            for (index, id) in apply.enumerated() {
                guard let source = composed.ruleset.source(id) else {
                    throw GameError.rulesRefuse(field: "/apply/\(index)", reason: "'\(id)' is not an item, condition or other source of these packs")
                }
                record.sources.append(AppliedSource(id: source.id, remaining: nil))
            }
            loaded = composed
            sheet = try CampaignRules.sheet(record, composed)
        }
        switch question {
        case .expression(let text):
            do {
                let expression = try DiceExpression(text, limits: Limits(maxOddsWork: maxOddsWork))
                var stats: [String: Int64] = [:]
                if !expression.statReferences.isEmpty {
                    guard let sheet else { throw GameError.fieldRequired("/character") }
                    for reference in expression.statReferences { stats[reference] = try sheet.value(reference) }
                }
                let given = stats
                return .expression(Engine.ExpressionOdds(expression: text, try await offTheEventLoop { try expression.odds(stats: given) }))
            } catch let error as EngineError {
                throw GameError.rulesRefuse(field: "/expression", reason: error.description)
            }
        case .check(let id, let dc, let against, let againstCheck, let advantage, let againstAdvantage, let tags):
            guard let sheet, let loaded else { throw GameError.fieldRequired("/character") }
            guard (dc == nil) != (against == nil) else { throw GameError.dcOrAgainst }
            do {
                if let against {
                    guard let campaign else { throw GameError.fieldInvalid("/against") }
                    let other = try CampaignRules.sheet(try await rules.character(against, in: campaign.id), loaded)
                    return .check(Engine.CheckOdds(try await offTheEventLoop {
                        try sheet.checkOdds(id, against: other, opposingCheck: againstCheck, advantage: advantage,
                                            opposingAdvantage: againstAdvantage, tags: tags)
                    }))
                }
                return .check(Engine.CheckOdds(try await offTheEventLoop { try sheet.checkOdds(id, dc: dc ?? 0, advantage: advantage, tags: tags) }))
            } catch let error as EngineError {
                throw GameError.rulesRefuse(field: "/check", reason: error.description)
            }
        }
    }

    /// One roll of an expression with the seed given (a random one without), stored nowhere.
    func sample(_ text: String, seed: UInt64?, stats: [String: Int64]) throws(GameError) -> (seed: UInt64, roll: Roll) {
        let seed = seed ?? RNG.systemSeed()
        do {
            var rng = RNG(seed: seed)
            return (seed, try DiceExpression(text).rollDetailed(using: &rng, stats: stats))
        } catch {
            throw .rulesRefuse(field: "/expression", reason: error.description)
        }
    }
}
