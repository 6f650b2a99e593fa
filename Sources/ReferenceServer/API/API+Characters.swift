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
        guard let header = ifMatch?.trimmingOWS, !header.isEmpty else { throw Problem.preconditionRequired() }
        if header == "*" { return current }
        let tags = header.split(separator: ",").map(\.trimmingOWS)
        for tag in tags {
            let strong = tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
            if strong == etag(current) { return current }
        }
        throw Problem.preconditionFailed(etag: etag(current))
    }

    /// The languages names are given in: those of `?lang=` (at most two), or the negotiated one.
    func languages(_ parameter: String?) throws -> [String] {
        if let parameter, !parameter.isEmpty {
            return Array(parameter.split(separator: ",").map { $0.trimmingOWS.lowercased() }.prefix(2))
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

    /// Base values within the contract's bounds, checked again before the rules see them.
    static func boundedStats(_ given: [String: Int]) throws(Problem) {
        for (id, value) in given.sorted(by: { $0.key < $1.key }) { _ = try bounded(value, statValues, field: "/stats/\(id)") }
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

    /// A ruleset's catalog in each language asked for (`?lang=`, or the negotiated one).
    func catalogs(_ loaded: LoadedRuleset, _ lang: String?) throws -> Components.Schemas.RulesetCatalogs {
        let languages = try languages(lang)
        var catalogs: [String: Components.Schemas.Catalog] = [:]
        for language in languages {
            catalogs[language] = Engine.Catalog(loaded, language: language)
        }
        return .init(languages: languages, catalogs: .init(additionalProperties: catalogs))
    }

    func getRuleset(_ input: Operations.GetRuleset.Input) async throws -> Operations.GetRuleset.Output {
        let loaded = try await ruleset(of: try await campaignRecord(input.path.campaignId))
        return .ok(.init(body: .json(try catalogs(loaded, input.query.lang))))
    }

    func listCharacters(_ input: Operations.ListCharacters.Input) async throws -> Operations.ListCharacters.Output {
        let (records, loaded) = try await services.characters.characters(in: try await campaignRecord(input.path.campaignId))
        return .ok(.init(body: .json(.init(items: try records.map { try served($0, loaded, input.query.lang) }))))
    }

    func createCharacter(_ input: Operations.CreateCharacter.Input) async throws -> Operations.CreateCharacter.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let stats = body.stats?.additionalProperties ?? [:]
        try Self.boundedStats(stats)
        let (record, loaded) = try await services.characters.create(name: body.name, stats: stats, in: try await campaignRecord(input.path.campaignId),
                                                                    by: try caller)
        return .created(.init(headers: .init(eTag: Self.etag(record.version)), body: .json(try served(record, loaded, input.query.lang))))
    }

    func getCharacter(_ input: Operations.GetCharacter.Input) async throws -> Operations.GetCharacter.Output {
        let (record, loaded) = try await services.characters.character(input.path.characterId, in: try await campaignRecord(input.path.campaignId))
        return .ok(.init(headers: .init(eTag: Self.etag(record.version)), body: .json(try served(record, loaded, input.query.lang))))
    }

    /// The character's current version, and the one the request's If-Match names (428 without
    /// one, 412 when it is not the current one).
    func expectedVersion(_ ifMatch: String?, character id: String, campaign: CampaignRecord) async throws -> Int {
        try Self.expectedVersion(ifMatch, current: try await services.rules.character(id, in: campaign.id).version)
    }

    func updateCharacter(_ input: Operations.UpdateCharacter.Input) async throws -> Operations.UpdateCharacter.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await campaignRecord(input.path.campaignId)
        if let stats = body.stats { try Self.boundedStats(stats.additionalProperties) }
        let expected = try await expectedVersion(input.headers.ifMatch, character: input.path.characterId, campaign: campaign)
        let (stored, loaded) = try await services.characters.update(input.path.characterId, in: campaign, expectedVersion: expected, name: body.name,
                                                                    stats: body.stats?.additionalProperties, callerRole: try await campaignRole(campaign.id),
                                                                    by: try caller)
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }

    func deleteCharacter(_ input: Operations.DeleteCharacter.Input) async throws -> Operations.DeleteCharacter.Output {
        let campaign = try await campaignRecord(input.path.campaignId)
        let expected = try await expectedVersion(input.headers.ifMatch, character: input.path.characterId, campaign: campaign)
        try await services.characters.delete(input.path.characterId, in: campaign, expectedVersion: expected,
                                             callerRole: try await campaignRole(campaign.id), by: try caller)
        return .noContent(.init())
    }

    func applySource(_ input: Operations.ApplySource.Input) async throws -> Operations.ApplySource.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await campaignRecord(input.path.campaignId)
        let duration = try body.duration.map { try Self.bounded($0, Self.durations, field: "/duration") }
        let expected = try await expectedVersion(input.headers.ifMatch, character: input.path.characterId, campaign: campaign)
        let (stored, loaded) = try await services.characters.apply(source: body.source, duration: duration, to: input.path.characterId, in: campaign,
                                                                   expectedVersion: expected, by: try caller)
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }

    func removeSource(_ input: Operations.RemoveSource.Input) async throws -> Operations.RemoveSource.Output {
        let campaign = try await campaignRecord(input.path.campaignId)
        let expected = try await expectedVersion(input.headers.ifMatch, character: input.path.characterId, campaign: campaign)
        let (stored, loaded) = try await services.characters.remove(source: input.path.sourceId, from: input.path.characterId, in: campaign,
                                                                    expectedVersion: expected, by: try caller)
        return .ok(.init(headers: .init(eTag: Self.etag(stored.version)), body: .json(try served(stored, loaded, input.query.lang))))
    }
}
