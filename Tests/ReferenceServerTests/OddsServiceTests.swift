import ContentPacks
import Foundation
import Logging
import Mechanics
import Testing
@testable import ReferenceServer

/// Odds without HTTP: of expressions, of checks for a campaign's characters and for characters
/// made up on the rules of packs, and what the service refuses.
@Suite struct OddsServiceTests {
    static func service(_ world: PlayServiceTests.World) -> OddsService {
        let packs = PackLibrary(store: world.storage.packs)
        return OddsService(campaigns: world.storage.campaigns, rules: CampaignRules(packs: packs, characters: world.storage.characters),
                           packs: packs, maxOddsWork: 1_000_000)
    }

    @Test func expressionsAndChecks() async throws {
        let world = try await PlayServiceTests.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let service = Self.service(world)
        guard case .expression(let dice) = try await service.odds(of: .expression("2d6"), for: .nobody, by: world.caller) else {
            Issue.record("not an expression's odds"); return
        }
        #expect(dice.totals.min == 2 && dice.totals.max == 12 && dice.totals.distribution.count == 11 && abs(dice.totals.mean - 7) < 1e-9)
        // A campaign's character: the check's bands, and the chance to reach the difficulty.
        let check = OddsService.Question.check(id: "persuade-merchant", dc: 12, against: nil, againstCheck: nil, advantage: 0, againstAdvantage: 0, tags: [])
        guard case .check(let odds) = try await service.odds(of: check, for: .campaign(id: world.campaign.id, character: world.character.id),
                                                             by: world.caller) else {
            Issue.record("not a check's odds"); return
        }
        #expect(odds.check.hasSuffix("persuade-merchant") && odds.dc == 12 && abs(odds.bands.map(\.probability).reduce(0, +) - 1) < 1e-9)
        // The same check for a character made up on the core pack's rules, with better speaking.
        let madeUp = OddsService.Subject.madeUp(packs: [.init(id: "core", version: nil)], stats: ["speaking": 5], apply: [])
        guard case .check(let better) = try await service.odds(of: check, for: madeUp, by: world.caller) else { Issue.record("not a check"); return }
        #expect(better.reach > odds.reach)
        // Opposed by another character of the campaign: no difficulty.
        let opposed = OddsService.Question.check(id: "persuade-merchant", dc: nil, against: world.character.id, againstCheck: nil, advantage: 1,
                                                 againstAdvantage: 0, tags: [])
        guard case .check(let contest) = try await service.odds(of: opposed, for: .campaign(id: world.campaign.id, character: world.character.id),
                                                                by: world.caller) else { Issue.record("not a check"); return }
        #expect(contest.dc == nil && contest.advantage == "advantage")
    }

    @Test func refusals() async throws {
        let world = try await PlayServiceTests.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let service = Self.service(world)
        let stranger = Caller(userId: "someone-else", address: "192.0.2.9", requestId: "req-2")
        await #expect(throws: GameError.campaignNotFound) {
            try await service.odds(of: .expression("1d20"), for: .campaign(id: world.campaign.id, character: nil), by: stranger)
        }
        await #expect(throws: GameError.fieldRequired("/character")) {
            try await service.odds(of: .expression("1d20+@speaking"), for: .nobody, by: world.caller)
        }
        let check = OddsService.Question.check(id: "persuade-merchant", dc: 10, against: nil, againstCheck: nil, advantage: 0, againstAdvantage: 0, tags: [])
        await #expect(throws: GameError.fieldRequired("/character")) { try await service.odds(of: check, for: .nobody, by: world.caller) }
        let both = OddsService.Question.check(id: "persuade-merchant", dc: 10, against: world.character.id, againstCheck: nil, advantage: 0,
                                              againstAdvantage: 0, tags: [])
        await #expect(throws: GameError.dcOrAgainst) {
            try await service.odds(of: both, for: .campaign(id: world.campaign.id, character: world.character.id), by: world.caller)
        }
        let opposed = OddsService.Question.check(id: "persuade-merchant", dc: nil, against: "anyone", againstCheck: nil, advantage: 0,
                                                 againstAdvantage: 0, tags: [])
        let madeUp = OddsService.Subject.madeUp(packs: [.init(id: "core", version: nil)], stats: [:], apply: [])
        await #expect(throws: GameError.fieldInvalid("/against")) { try await service.odds(of: opposed, for: madeUp, by: world.caller) }
        do {
            _ = try await service.odds(of: .expression("1d20"), for: .madeUp(packs: [.init(id: "core", version: nil)], stats: [:], apply: ["no-such-thing"]),
                                       by: world.caller)
            Issue.record("an unknown source was applied")
        } catch GameError.rulesRefuse(let field, _) {
            #expect(field == "/apply/0")
        }
        do {
            _ = try await service.odds(of: .expression("1d20"), for: .madeUp(packs: [.init(id: "no-such-pack", version: nil)], stats: [:], apply: []),
                                       by: world.caller)
            Issue.record("a missing pack resolved")
        } catch GameError.packsUnresolved(let field, _) {
            #expect(field.hasPrefix("/packs"))
        }
        // Beyond the work limit, the rules refuse it, naming the expression.
        let tight = OddsService(campaigns: world.storage.campaigns, rules: CampaignRules(packs: PackLibrary(store: world.storage.packs),
                                                                                          characters: world.storage.characters),
                                packs: PackLibrary(store: world.storage.packs), maxOddsWork: 10)
        do {
            _ = try await tight.odds(of: .expression("40d20kh3"), for: .nobody, by: world.caller)
            Issue.record("the work limit did not hold")
        } catch GameError.rulesRefuse(let field, _) {
            #expect(field == "/expression")
        }
    }

    @Test func samplesReplayFromTheirSeed() async throws {
        let world = try await PlayServiceTests.world()
        defer { try? FileManager.default.removeItem(atPath: world.folder) }
        let service = Self.service(world)
        let first = try service.sample("4d6kh3+@str", seed: 42, stats: ["str": 2])
        let again = try service.sample("4d6kh3+@str", seed: 42, stats: ["str": 2])
        #expect(first.seed == 42 && first.roll == again.roll)
        #expect(try service.sample("1d20", seed: nil, stats: [:]).roll.total >= 1)
        #expect(throws: GameError.self) { try service.sample("1d", seed: 1, stats: [:]) }
    }
}
