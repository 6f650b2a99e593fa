import ContentPacks
import Foundation
import Mechanics

/// Characters of a campaign: base values the engine checks against the campaign's ruleset, and
/// sources (items, conditions) the game master applies and removes. Each change names the
/// version it replaces, is stored with its log entry in one transaction, and is announced to
/// the live sockets; a change by anyone but the character's player or the campaign's game master
/// is refused. Times come from `now`.
struct CharacterService: Sendable {
    let store: any CharacterStore
    let rules: CampaignRules
    let events: any CampaignEventPublisher
    let audit: AuditTrail
    let now: @Sendable () -> Date

    /// The campaign's characters, with the ruleset their sheets are computed on.
    func characters(in campaign: CampaignRecord) async throws -> (records: [CharacterRecord], ruleset: LoadedRuleset) {
        (try await store.characters(campaignId: campaign.id), try await rules.ruleset(of: campaign))
    }

    /// A character of the campaign, with the campaign's ruleset.
    func character(_ id: String, in campaign: CampaignRecord) async throws -> (record: CharacterRecord, ruleset: LoadedRuleset) {
        (try await rules.character(id, in: campaign.id), try await rules.ruleset(of: campaign))
    }

    /// A new character of the caller's, with base values the rules accept.
    func create(name: String, stats: [String: Int], in campaign: CampaignRecord, by caller: Caller) async throws -> (record: CharacterRecord, ruleset: LoadedRuleset) {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let loaded = try await rules.ruleset(of: campaign)
        let created = now()
        var record = CharacterRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, ownerId: caller.userId ?? "", name: name,
                                     stats: [:], sources: [], version: 1, createdAt: created, updatedAt: created)
        record.stats = try Self.checkedStats(stats, onto: record, loaded)
        let event = try await store.create(record, log: Self.logged("character.created", record, by: caller, ["character": record.id, "name": record.name]))
        events.publish(event, commitment: nil)
        return (record, loaded)
    }

    /// A changed name or base values, by the character's player or the game master.
    func update(_ id: String, in campaign: CampaignRecord, expectedVersion: Int, name: String?, stats: [String: Int]?, callerRole: CampaignRole,
                by caller: Caller) async throws -> (record: CharacterRecord, ruleset: LoadedRuleset) {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        var (record, loaded) = try await character(id, in: campaign)
        try Self.requireOwnerOrGameMaster(record, callerRole: callerRole, caller: caller)
        if let name { record.name = name }
        if let stats { record.stats = try Self.checkedStats(stats, onto: record, loaded) }
        return (try await store(record, expected: expectedVersion, by: caller, ["change": "sheet"]), loaded)
    }

    /// Deletes a character, by its player or the game master; the log keeps what it did.
    func delete(_ id: String, in campaign: CampaignRecord, expectedVersion: Int, callerRole: CampaignRole, by caller: Caller) async throws {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        let record = try await rules.character(id, in: campaign.id)
        try Self.requireOwnerOrGameMaster(record, callerRole: callerRole, caller: caller)
        let event: CampaignEvent
        do {
            event = try await store.delete(id: record.id, expectedVersion: expectedVersion,
                                           log: Self.logged("character.deleted", record, by: caller, ["character": record.id, "name": record.name]))
        } catch StoreError.versionMismatch(let current) {
            throw GameError.versionMismatch(current: current)
        } catch StoreError.notFound {
            throw GameError.characterNotFound
        }
        try await audit.record("character.deleted", by: caller, target: record.id, ["campaign": campaign.id, "name": record.name])
        events.publish(event, commitment: nil)
    }

    /// Applies a source of the ruleset for `duration` rounds (for good when nil); applying it
    /// again renews it, as the engine does.
    func apply(source sourceId: String, duration: Int?, to id: String, in campaign: CampaignRecord, expectedVersion: Int,
               by caller: Caller) async throws -> (record: CharacterRecord, ruleset: LoadedRuleset) {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        var (record, loaded) = try await character(id, in: campaign)
        guard let source = loaded.ruleset.source(sourceId) else {
            throw GameError.rulesRefuse(field: "/source", reason: "'\(sourceId)' is not an item, condition or other source of this campaign's ruleset")
        }
        var sheet = try CampaignRules.sheet(record, loaded)
        do {
            try sheet.apply(source.id, duration: duration)
        } catch {
            throw GameError.rulesRefuse(field: "/source", reason: error.message)
        }
        record.sources.removeAll { $0.id == source.id }
        record.sources.append(AppliedSource(id: source.id, remaining: duration))
        return (try await store(record, expected: expectedVersion, by: caller, ["change": "source.applied", "source": source.id]), loaded)
    }

    /// Removes an applied source.
    func remove(source sourceId: String, from id: String, in campaign: CampaignRecord, expectedVersion: Int,
                by caller: Caller) async throws -> (record: CharacterRecord, ruleset: LoadedRuleset) {
        guard campaign.archivedAt == nil else { throw GameError.campaignArchived }
        var (record, loaded) = try await character(id, in: campaign)
        let source = loaded.ruleset.source(sourceId)?.id ?? sourceId
        guard record.sources.contains(where: { $0.id == source }) else { throw GameError.sourceNotApplied(source: sourceId) }
        record.sources.removeAll { $0.id == source }
        return (try await store(record, expected: expectedVersion, by: caller, ["change": "source.removed", "source": source]), loaded)
    }

    /// Base values as given, checked by the engine and keyed by their qualified ids.
    static func checkedStats(_ given: [String: Int], onto record: CharacterRecord, _ loaded: LoadedRuleset) throws(GameError) -> [String: Int64] {
        var stats = record.stats
        var sheet = try CampaignRules.sheet(record, loaded)
        for (id, value) in given.sorted(by: { $0.key < $1.key }) {
            let field = "/stats/\(id)"
            guard let qualified = loaded.qualifiedId(id), let kind = loaded.ruleset.valueKind(of: qualified) else {
                throw .rulesRefuse(field: field, reason: "'\(id)' is not a stat or skill of this campaign's ruleset")
            }
            guard kind != .derived else { throw .rulesRefuse(field: field, reason: "'\(id)' is a derived value; set the values it reads instead") }
            do {
                try sheet.set(qualified, to: Int64(value))
            } catch {
                throw .rulesRefuse(field: field, reason: error.message)
            }
            stats[qualified] = Int64(value)
        }
        return stats
    }

    static func requireOwnerOrGameMaster(_ record: CharacterRecord, callerRole: CampaignRole, caller: Caller) throws(GameError) {
        guard record.ownerId == caller.userId || callerRole == .gameMaster else { throw .characterNotYours }
    }

    static func logged(_ kind: String, _ record: CharacterRecord, by caller: Caller, _ fields: [String: String]) throws -> NewCampaignEvent {
        NewCampaignEvent(kind: kind, actorId: caller.userId, characterId: record.id, payload: try StoredJSON.text(fields))
    }

    /// Stores a changed character in place of `expected`; a concurrent change is a version
    /// mismatch.
    private func store(_ changed: CharacterRecord, expected: Int, by caller: Caller, _ event: [String: String]) async throws -> CharacterRecord {
        var changed = changed
        changed.updatedAt = now()
        // The version it is stored as: the one it replaces, plus one (which a stored version at
        // the largest Int, from a damaged row, does not have).
        let (next, overflow) = expected.addingReportingOverflow(1)
        guard !overflow else { throw StoreError.exhausted(field: "version") }
        var fields = event
        fields["character"] = changed.id
        fields["version"] = String(next)
        let stored: (character: CharacterRecord, event: CampaignEvent)
        do {
            stored = try await store.update(changed, expectedVersion: expected, log: Self.logged("character.updated", changed, by: caller, fields))
        } catch StoreError.versionMismatch(let current) {
            throw GameError.versionMismatch(current: current)
        } catch StoreError.notFound {
            throw GameError.characterNotFound
        }
        events.publish(stored.event, commitment: nil)
        return stored.character
    }
}
