import ContentPacks
import Foundation
import Mechanics
import OpenAPIRuntime

/// Play: sessions that commit to their server seed, server-authoritative rolls and checks
/// seeded as ``FairDice`` documents, the campaign's log, and exact odds.
extension API {
    static func playSession(_ record: PlaySessionRecord) -> Components.Schemas.PlaySession {
        Components.Schemas.PlaySession(id: record.id, campaign: record.campaignId, number: record.number, commitment: record.commitment,
                                       clientSeed: record.clientSeed, startedAt: record.startedAt, endedAt: record.endedAt, rolls: record.rolls,
                                       open: record.endedAt == nil, serverSeed: record.endedAt == nil ? nil : record.serverSeed)
    }

    /// A log entry as the contract gives it; its payload read from the event unless given.
    static func logEntry(_ event: CampaignEvent, payload: LogPayload? = nil, commitment: String? = nil) throws -> Components.Schemas.LogEntry {
        let payload = try payload ?? LogPayload.stored(kind: event.kind, json: event.payload)
        let verification = payload.seeds.map {
            Components.Schemas.Verification(session: $0.session, nonce: $0.nonce, clientSeed: $0.clientSeed, seed: $0.seed, commitment: commitment)
        }
        return Components.Schemas.LogEntry(sequence: Int(event.sequence), at: event.at, kind: event.kind, actor: event.actorId,
                                           character: event.characterId, session: event.sessionId, verification: verification, payload: payload)
    }

    func listPlaySessions(_ input: Operations.ListPlaySessions.Input) async throws -> Operations.ListPlaySessions.Output {
        let sessions = try await services.play.sessions(campaignId: input.path.campaignId)
        return .ok(.init(body: .json(.init(items: sessions.map(Self.playSession)))))
    }

    func startPlaySession(_ input: Operations.StartPlaySession.Input) async throws -> Operations.StartPlaySession.Output {
        var clientSeed: String?
        if case .json(let body) = input.body { clientSeed = body.clientSeed }
        let session = try await services.play.startSession(in: try await campaignRecord(input.path.campaignId), clientSeed: clientSeed, by: try caller)
        return .created(.init(body: .json(Self.playSession(session))))
    }

    func getPlaySession(_ input: Operations.GetPlaySession.Input) async throws -> Operations.GetPlaySession.Output {
        .ok(.init(body: .json(Self.playSession(try await services.play.session(input.path.sessionId, campaignId: input.path.campaignId)))))
    }

    func setClientSeed(_ input: Operations.SetClientSeed.Input) async throws -> Operations.SetClientSeed.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let session = try await services.play.setClientSeed(body.clientSeed, session: input.path.sessionId,
                                                            in: try await campaignRecord(input.path.campaignId), by: try caller)
        return .ok(.init(body: .json(Self.playSession(session))))
    }

    func endPlaySession(_ input: Operations.EndPlaySession.Input) async throws -> Operations.EndPlaySession.Output {
        let session = try await services.play.endSession(input.path.sessionId, campaignId: input.path.campaignId, by: try caller)
        return .ok(.init(body: .json(Self.playSession(session))))
    }

    // MARK: - Rolls and checks

    func rollDice(_ input: Operations.RollDice.Input) async throws -> Operations.RollDice.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let played = try await services.play.roll(.init(expression: body.expression, characterId: body.character, label: body.label,
                                                        idempotencyKey: input.headers.idempotencyKey),
                                                  in: try await campaignRecord(input.path.campaignId), by: try caller)
        let entry = try Self.logEntry(played.event, payload: played.payload, commitment: played.commitment)
        return played.replayed ? .ok(.init(body: .json(entry))) : .created(.init(body: .json(entry)))
    }

    func rollCheck(_ input: Operations.RollCheck.Input) async throws -> Operations.RollCheck.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        guard (body.dc == nil) != (body.against == nil) else { throw Problem.unprocessable("/dc", .dcOrAgainst) }
        let dc = try body.dc.map { Int64(try Self.bounded($0, Self.statValues, field: "/dc")) }
        let request = PlayService.CheckRequest(characterId: body.character, check: body.check, dc: dc, against: body.against,
                                               againstCheck: body.againstCheck, advantage: body.advantage?.rawValue,
                                               againstAdvantage: body.againstAdvantage?.rawValue, tags: Set(body.tags ?? []), label: body.label,
                                               languages: try languages(input.query.lang), idempotencyKey: input.headers.idempotencyKey)
        let played = try await services.play.check(request, in: try await campaignRecord(input.path.campaignId), by: try caller)
        let entry = try Self.logEntry(played.event, payload: played.payload, commitment: played.commitment)
        return played.replayed ? .ok(.init(body: .json(entry))) : .created(.init(body: .json(entry)))
    }

    func listLog(_ input: Operations.ListLog.Input) async throws -> Operations.ListLog.Output {
        let query = input.query
        let page = try await services.play.log(campaignId: input.path.campaignId,
                                               CampaignEventFilter(kind: query.kind, characterId: query.character, sessionId: query.session),
                                               after: try Self.sequenceCursor(query.cursor), limit: Self.pageLimit(query.limit))
        let items = try page.events.map { try Self.logEntry($0, commitment: $0.sessionId.flatMap { page.commitments[$0] }) }
        return .ok(.init(body: .json(.init(items: items, next: page.more ? page.events.last.map { String($0.sequence) } : nil))))
    }

    /// A plain request for the live socket (the upgrade itself is handled before the router).
    func connectLive(_ input: Operations.ConnectLive.Input) async throws -> Operations.ConnectLive.Output {
        throw Problem.upgradeRequired()
    }

    func sampleRoll(_ input: Operations.SampleRoll.Input) async throws -> Operations.SampleRoll.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        var seed: UInt64?
        if let text = body.seed {
            guard let value = UInt64(text) else { throw Problem.validation("/seed", .fieldInvalid) }
            seed = value
        }
        var stats: [String: Int64] = [:]
        for (id, value) in body.stats?.additionalProperties ?? [:] { stats[id] = Int64(try Self.bounded(value, Self.statValues, field: "/stats/\(id)")) }
        let sample = try services.odds.sample(body.expression, seed: seed, stats: stats)
        return .ok(.init(body: .json(.init(expression: body.expression, seed: String(sample.seed), total: Int(sample.roll.total),
                                           result: Engine.Roll(sample.roll)))))
    }

    // MARK: - Odds

    func computeOdds(_ input: Operations.ComputeOdds.Input) async throws -> Operations.ComputeOdds.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let question: OddsService.Question
        switch (body.expression, body.check) {
        case (let text?, nil):
            question = .expression(text)
        case (nil, let check?):
            question = .check(id: check, dc: try body.dc.map { Int64(try Self.bounded($0, Self.statValues, field: "/dc")) }, against: body.against,
                              againstCheck: body.againstCheck, advantage: PlayService.advantage(body.advantage?.rawValue),
                              againstAdvantage: PlayService.advantage(body.againstAdvantage?.rawValue), tags: Set(body.tags ?? []))
        default:
            throw Problem.unprocessable("/expression", .expressionOrCheck)
        }
        let subject: OddsService.Subject
        if let character = body.character {
            guard let campaign = body.campaign else { throw Problem.unprocessable("/campaign", .fieldRequired) }
            subject = .campaign(id: campaign, character: character)
        } else if let packs = body.packs {
            // A character made up here, on the rules of these packs (the dice lab).
            guard body.campaign == nil else { throw Problem.unprocessable("/packs", .fieldInvalid) }
            let stats = body.stats?.additionalProperties ?? [:]
            try Self.boundedStats(stats)
            subject = .madeUp(packs: packs.map { .init(id: $0.id, version: $0.version) }, stats: stats, apply: body.apply ?? [])
        } else if let campaign = body.campaign {
            subject = .campaign(id: campaign, character: nil)
        } else {
            subject = .nobody
        }
        return .ok(.init(body: .json(try await services.odds.odds(of: question, for: subject, by: try caller))))
    }
}
