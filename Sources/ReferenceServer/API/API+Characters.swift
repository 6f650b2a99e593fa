import ContentPacks
import Foundation
import Mechanics
import OpenAPIRuntime

/// Characters: created by players from their campaign's ruleset, changed under optimistic
/// concurrency (ETag and If-Match), served with the engine's breakdown of every value.
extension API {
    static func etag(_ version: Int) -> String { "\"v\(version)\"" }

    /// The version an If-Match names; 428 without one, 412 when it is not `current`.
    static func expectedVersion(_ ifMatch: String?, current: Int) throws(Problem) -> Int {
        guard let header = ifMatch?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { throw Problem.preconditionRequired() }
        if header == "*" { return current }
        let tags = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for tag in tags {
            let strong = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
            if strong == etag(current) { return current }
        }
        throw Problem.preconditionFailed(etag: etag(current))
    }

    /// The languages names are given in: those of `?lang=` (at most two), or the negotiated one.
    func languages(_ parameter: String?) throws -> [String] {
        if let parameter, !parameter.isEmpty {
            return Array(parameter.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.prefix(2))
        }
        return [try info.language.rawValue]
    }

    static func names(_ loaded: LoadedRuleset, _ id: String, _ languages: [String]) -> Components.Schemas.Names {
        var names: [String: String] = [:]
        for language in languages { names[language] = loaded.name(of: id, language: language) ?? id }
        return .init(additionalProperties: names)
    }

    /// The ruleset a campaign pinned.
    func ruleset(of campaign: CampaignRecord) async throws -> LoadedRuleset {
        try await services.rules.ruleset(of: campaign)
    }

    /// A character of the campaign (404 for one of another campaign).
    func characterRecord(_ id: String, campaign: String) async throws -> CharacterRecord {
        try await services.rules.character(id, in: campaign)
    }

    /// The sheet the engine computes from a stored character.
    static func sheet(_ record: CharacterRecord, _ loaded: LoadedRuleset) throws(Problem) -> CharacterSheet {
        do {
            return try CampaignRules.sheet(record, loaded)
        } catch {
            throw Problem(error)
        }
    }

    /// The contract's bounds of a base value (and of a check's `dc`).
    static let statValues = -1_000_000_000...1_000_000_000
    /// The contract's bounds of a source's `duration`, in rounds.
    static let durations = 1...1_000_000

    /// Base values as given, checked by the engine and keyed by their qualified ids.
    static func checkedStats(_ given: [String: Int], onto record: CharacterRecord, _ loaded: LoadedRuleset) throws(Problem) -> [String: Int64] {
        var stats = record.stats
        var sheet = try sheet(record, loaded)
        for (id, value) in given.sorted(by: { $0.key < $1.key }) {
            let field = "/stats/\(id)"
            _ = try bounded(value, statValues, field: field)
            guard let qualified = loaded.qualifiedId(id), let kind = loaded.ruleset.valueKind(of: qualified) else {
                throw Problem.unprocessable(field, .rulesRefuse, ["reason": "'\(id)' is not a stat or skill of this campaign's ruleset"])
            }
            guard kind != .derived else {
                throw Problem.unprocessable(field, .rulesRefuse, ["reason": "'\(id)' is a derived value; set the values it reads instead"])
            }
            do {
                try sheet.set(qualified, to: Int64(value))
            } catch {
                throw Problem.unprocessable(field, .rulesRefuse, ["reason": error.message])
            }
            stats[qualified] = Int64(value)
        }
        return stats
    }

    static func character(_ record: CharacterRecord, _ sheet: CharacterSheet, _ loaded: LoadedRuleset, languages: [String]) throws -> Components.Schemas.Character {
        let values = try sheet.breakdowns().map { value in
            Components.Schemas.ValueBreakdown(
                id: value.id, kind: value.kind.rawValue, names: names(loaded, value.id, languages), base: Int(value.base), formula: value.formula,
                total: Int(value.total), modifiers: value.modifiers.map(modifierLine))
        }
        let sources = record.sources.map { source in
            Components.Schemas.AppliedSource(id: source.id, kind: loaded.ruleset.source(source.id)?.kind ?? "source",
                                             names: names(loaded, source.id, languages), remaining: source.remaining)
        }
        return Components.Schemas.Character(
            id: record.id, campaign: record.campaignId, owner: record.ownerId, name: record.name, version: record.version,
            stats: .init(additionalProperties: record.stats.mapValues { Int($0) }), sources: sources, values: values,
            createdAt: record.createdAt, updatedAt: record.updatedAt)
    }

    static func modifierLine(_ line: ModifierLine) -> Components.Schemas.ModifierLine {
        var value: Int?
        var effect: String?
        switch line.effect {
        case .add(let amount): value = Int(amount)
        case .advantage: effect = "advantage"
        case .disadvantage: effect = "disadvantage"
        }
        return Components.Schemas.ModifierLine(source: line.source, _type: line.type, value: value, effect: effect, status: line.status.rawValue,
                                               when: line.when, remaining: line.remaining)
    }

    /// The sheet of `record` as served, with the sources' remaining rounds as the engine keeps them.
    func served(_ record: CharacterRecord, _ loaded: LoadedRuleset, _ lang: String?) throws -> Components.Schemas.Character {
        try Self.character(record, try Self.sheet(record, loaded), loaded, languages: try languages(lang))
    }

    /// Refuses a change by anyone but the character's player or the campaign's game master.
    func requireOwnerOrGameMaster(_ record: CharacterRecord) async throws {
        if record.ownerId == (try principal.user.id) { return }
        guard try await campaignRole(record.campaignId) == .gameMaster else { throw Problem.forbidden(.characterNotYours) }
    }

    /// A ruleset's catalog in each language asked for (`?lang=`, or the negotiated one).
    func catalogs(_ loaded: LoadedRuleset, _ lang: String?) throws -> Components.Schemas.RulesetCatalogs {
        let languages = try languages(lang)
        var catalogs: [String: Components.Schemas.Catalog] = [:]
        for language in languages {
            let catalog = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(loaded.catalogJSON(language: language).utf8))
            catalogs[language] = .init(additionalProperties: catalog)
        }
        return .init(languages: languages, catalogs: .init(additionalProperties: catalogs))
    }

    func getRuleset(_ input: Operations.GetRuleset.Input) async throws -> Operations.GetRuleset.Output {
        let loaded = try await ruleset(of: try await campaignRecord(input.path.campaignId))
        return .ok(.init(body: .json(try catalogs(loaded, input.query.lang))))
    }

    func listCharacters(_ input: Operations.ListCharacters.Input) async throws -> Operations.ListCharacters.Output {
        let campaign = try await campaignRecord(input.path.campaignId)
        let loaded = try await ruleset(of: campaign)
        let records = try await storage.characters.characters(campaignId: campaign.id)
        return .ok(.init(body: .json(.init(items: try records.map { try served($0, loaded, input.query.lang) }))))
    }

    func createCharacter(_ input: Operations.CreateCharacter.Input) async throws -> Operations.CreateCharacter.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await activeCampaign(input.path.campaignId)
        let loaded = try await ruleset(of: campaign)
        let now = Date()
        var record = CharacterRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, ownerId: try principal.user.id, name: body.name,
                                     stats: [:], sources: [], version: 1, createdAt: now, updatedAt: now)
        record.stats = try Self.checkedStats(body.stats?.additionalProperties ?? [:], onto: record, loaded)
        try await published(try await storage.characters.create(record, log: logged("character.created", character: record.id,
                                                                                      ["character": record.id, "name": record.name])))
        return .created(.init(headers: .init(eTag: Self.etag(record.version)), body: .json(try served(record, loaded, input.query.lang))))
    }

    func getCharacter(_ input: Operations.GetCharacter.Input) async throws -> Operations.GetCharacter.Output {
        let campaign = try await campaignRecord(input.path.campaignId)
        let record = try await characterRecord(input.path.characterId, campaign: campaign.id)
        let loaded = try await ruleset(of: campaign)
        return .ok(.init(headers: .init(eTag: Self.etag(record.version)), body: .json(try served(record, loaded, input.query.lang))))
    }

    /// Stores a changed character under If-Match; a concurrent change answers 412.
    func store(_ changed: CharacterRecord, expected: Int, event: [String: String]) async throws -> CharacterRecord {
        var changed = changed
        changed.updatedAt = Date()
        // The version it is stored as: the one it replaces, plus one (which a stored version at
        // the largest Int, from a damaged row, does not have).
        let (next, overflow) = expected.addingReportingOverflow(1)
        guard !overflow else { throw StoreError.exhausted(field: "version") }
        var fields = event
        fields["character"] = changed.id
        fields["version"] = String(next)
        let stored: (character: CharacterRecord, event: CampaignEvent)
        do {
            stored = try await storage.characters.update(changed, expectedVersion: expected, log: logged("character.updated", character: changed.id, fields))
        } catch StoreError.versionMismatch(let current) {
            throw Problem.preconditionFailed(etag: Self.etag(current))
        } catch StoreError.notFound {
            throw Problem.notFound(.characterNotFound)
        }
        try await published(stored.event)
        return stored.character
    }

    func updateCharacter(_ input: Operations.UpdateCharacter.Input) async throws -> Operations.UpdateCharacter.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await activeCampaign(input.path.campaignId)
        var record = try await characterRecord(input.path.characterId, campaign: campaign.id)
        let expected = try Self.expectedVersion(input.headers.ifMatch, current: record.version)
        try await requireOwnerOrGameMaster(record)
        let loaded = try await ruleset(of: campaign)
        if let name = body.name { record.name = name }
        if let stats = body.stats { record.stats = try Self.checkedStats(stats.additionalProperties, onto: record, loaded) }
        let stored = try await store(record, expected: expected, event: ["change": "sheet"])
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }

    func deleteCharacter(_ input: Operations.DeleteCharacter.Input) async throws -> Operations.DeleteCharacter.Output {
        let campaign = try await activeCampaign(input.path.campaignId)
        let record = try await characterRecord(input.path.characterId, campaign: campaign.id)
        let expected = try Self.expectedVersion(input.headers.ifMatch, current: record.version)
        try await requireOwnerOrGameMaster(record)
        let event: CampaignEvent
        do {
            event = try await storage.characters.delete(id: record.id, expectedVersion: expected,
                                                        log: logged("character.deleted", character: record.id, ["character": record.id, "name": record.name]))
        } catch StoreError.versionMismatch(let current) {
            throw Problem.preconditionFailed(etag: Self.etag(current))
        } catch StoreError.notFound {
            throw Problem.notFound(.characterNotFound)
        }
        try await audit("character.deleted", target: record.id, ["campaign": campaign.id, "name": record.name])
        try await published(event)
        return .noContent(.init())
    }

    func applySource(_ input: Operations.ApplySource.Input) async throws -> Operations.ApplySource.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await activeCampaign(input.path.campaignId)
        var record = try await characterRecord(input.path.characterId, campaign: campaign.id)
        let expected = try Self.expectedVersion(input.headers.ifMatch, current: record.version)
        let loaded = try await ruleset(of: campaign)
        guard let source = loaded.ruleset.source(body.source) else {
            throw Problem.unprocessable("/source", .rulesRefuse, ["reason": "'\(body.source)' is not an item, condition or other source of this campaign's ruleset"])
        }
        let duration = try body.duration.map { try Self.bounded($0, Self.durations, field: "/duration") }
        var sheet = try Self.sheet(record, loaded)
        do {
            try sheet.apply(source.id, duration: duration)
        } catch {
            throw Problem.unprocessable("/source", .rulesRefuse, ["reason": error.message])
        }
        // Applying again renews it, as the engine does.
        record.sources.removeAll { $0.id == source.id }
        record.sources.append(AppliedSource(id: source.id, remaining: duration))
        let stored = try await store(record, expected: expected, event: ["change": "source.applied", "source": source.id])
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }

    func removeSource(_ input: Operations.RemoveSource.Input) async throws -> Operations.RemoveSource.Output {
        let campaign = try await activeCampaign(input.path.campaignId)
        var record = try await characterRecord(input.path.characterId, campaign: campaign.id)
        let expected = try Self.expectedVersion(input.headers.ifMatch, current: record.version)
        let loaded = try await ruleset(of: campaign)
        let id = loaded.ruleset.source(input.path.sourceId)?.id ?? input.path.sourceId
        guard record.sources.contains(where: { $0.id == id }) else {
            throw Problem.notFound(.rulesRefuse, ["reason": "'\(input.path.sourceId)' is not applied to this character"])
        }
        record.sources.removeAll { $0.id == id }
        let stored = try await store(record, expected: expected, event: ["change": "source.removed", "source": id])
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }
}
