import ContentPacks
import Foundation
import Mechanics

/// A campaign's rules as the services read them: the ruleset its pinned packs compose, its
/// characters, and the sheet the engine computes from a stored character.
struct CampaignRules: Sendable {
    let packs: PackLibrary
    let characters: any CharacterStore

    /// The campaign's composed ruleset (cached by the pack library).
    func ruleset(of campaign: CampaignRecord) async throws -> LoadedRuleset {
        do {
            return try await packs.ruleset(campaign.packs)
        } catch let problem as PackLibrary.ResolutionProblem {
            throw GameError.packsUnresolved(field: problem.field, reason: problem.message)
        }
    }

    /// A character of the campaign; one of another campaign is not found, as a missing one.
    func character(_ id: String, in campaignId: String) async throws -> CharacterRecord {
        guard let record = try await characters.character(id: id), record.campaignId == campaignId else { throw GameError.characterNotFound }
        return record
    }

    /// The sheet the engine computes from a stored character.
    static func sheet(_ record: CharacterRecord, _ loaded: LoadedRuleset) throws(GameError) -> CharacterSheet {
        var sheet = CharacterSheet(ruleset: loaded.ruleset)
        do {
            for (id, value) in record.stats.sorted(by: { $0.key < $1.key }) { try sheet.set(id, to: value) }
            for source in record.sources { try sheet.apply(source.id, duration: source.remaining) }
        } catch {
            throw .rulesRefuse(field: "/stats", reason: error.message)
        }
        return sheet
    }
}
