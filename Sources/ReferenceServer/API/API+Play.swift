import ContentPacks
import Foundation
import Mechanics
import OpenAPIRuntime
import Synchronization

/// Play: sessions that commit to their server seed, server-authoritative rolls and checks
/// seeded as ``FairDice`` documents, the campaign's log, and exact odds.
extension API {
    static func playSession(_ record: PlaySessionRecord) -> Components.Schemas.PlaySession {
        Components.Schemas.PlaySession(id: record.id, campaign: record.campaignId, number: record.number, commitment: record.commitment,
                                       clientSeed: record.clientSeed, startedAt: record.startedAt, endedAt: record.endedAt, rolls: record.rolls,
                                       open: record.endedAt == nil, serverSeed: record.endedAt == nil ? nil : record.serverSeed)
    }

    static func logEntry(_ event: CampaignEvent, commitment: String? = nil) throws -> Components.Schemas.LogEntry {
        let payload = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(event.payload.utf8))
        var verification: Components.Schemas.Verification?
        if let session = event.sessionId, let nonce = event.nonce, event.kind == "roll" || event.kind == "check",
           case .some(.some(let seed as String)) = payload.value["seed"], case .some(.some(let clientSeed as String)) = payload.value["client_seed"] {
            verification = .init(session: session, nonce: nonce, clientSeed: clientSeed, seed: seed, commitment: commitment)
        }
        return Components.Schemas.LogEntry(sequence: Int(event.sequence), at: event.at, kind: event.kind, actor: event.actorId,
                                           character: event.characterId, session: event.sessionId, verification: verification,
                                           payload: .init(additionalProperties: payload))
    }

    func playSessionRecord(_ id: String, campaign: String) async throws -> PlaySessionRecord {
        guard let record = try await storage.play.session(id: id), record.campaignId == campaign else { throw Problem.notFound(.playSessionNotFound) }
        return record
    }

    func listPlaySessions(_ input: Operations.ListPlaySessions.Input) async throws -> Operations.ListPlaySessions.Output {
        let sessions = try await storage.play.sessions(campaignId: input.path.campaignId)
        return .ok(.init(body: .json(.init(items: sessions.map(Self.playSession)))))
    }

    func startPlaySession(_ input: Operations.StartPlaySession.Input) async throws -> Operations.StartPlaySession.Output {
        let campaign = try await activeCampaign(input.path.campaignId)
        var clientSeed: String?
        if case .json(let body) = input.body { clientSeed = body.clientSeed }
        let serverSeed = FairDice.newServerSeed()
        guard let commitment = FairDice.commitment(serverSeed: serverSeed) else { throw Problem.internal(requestId: try info.id) }
        // Without a client seed from the table, a random one: the players may replace it before
        // any roll.
        let record = PlaySessionRecord(id: UUID().uuidString.lowercased(), campaignId: campaign.id, number: 0, serverSeed: serverSeed,
                                       commitment: commitment, clientSeed: clientSeed ?? String(FairDice.newServerSeed().prefix(16)), startedAt: Date())
        let stored: PlaySessionRecord
        do {
            let event: CampaignEvent
            (stored, event) = try await storage.play.startSession(record, actorId: try principal.user.id)
            try await published(event)
        } catch StoreError.conflict {
            throw Problem.conflict(.sessionAlreadyOpen)
        }
        try await audit("play_session.started", target: campaign.id, ["session": stored.id, "commitment": stored.commitment])
        return .created(.init(body: .json(Self.playSession(stored))))
    }

    func getPlaySession(_ input: Operations.GetPlaySession.Input) async throws -> Operations.GetPlaySession.Output {
        let record = try await playSessionRecord(input.path.sessionId, campaign: input.path.campaignId)
        return .ok(.init(body: .json(Self.playSession(record))))
    }

    func setClientSeed(_ input: Operations.SetClientSeed.Input) async throws -> Operations.SetClientSeed.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        _ = try await activeCampaign(input.path.campaignId)
        let session = try await playSessionRecord(input.path.sessionId, campaign: input.path.campaignId)
        do {
            let (stored, event) = try await storage.play.setClientSeed(body.clientSeed, sessionId: session.id, actorId: try principal.user.id)
            try await published(event)
            return .ok(.init(body: .json(Self.playSession(stored))))
        } catch StoreError.conflict {
            throw Problem.conflict(.playSessionEnded)
        }
    }

    func endPlaySession(_ input: Operations.EndPlaySession.Input) async throws -> Operations.EndPlaySession.Output {
        let session = try await playSessionRecord(input.path.sessionId, campaign: input.path.campaignId)
        do {
            let (stored, event) = try await storage.play.endSession(id: session.id, actorId: try principal.user.id, at: Date())
            try await published(event)
            try await audit("play_session.ended", target: stored.campaignId, ["session": stored.id, "rolls": String(stored.rolls)])
            return .ok(.init(body: .json(Self.playSession(stored))))
        } catch StoreError.conflict {
            throw Problem.conflict(.playSessionEnded)
        }
    }

    // MARK: - Rolls and checks

    static func advantage(_ text: String?) -> Int {
        switch text {
        case "advantage": 1
        case "disadvantage": -1
        default: 0
        }
    }

    /// A hash of what a request asks, so that a repeated Idempotency-Key with another request
    /// is told apart.
    static func requestHash(_ parts: [String?]) -> String {
        let text = parts.map { $0.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: "|")
        return Hex.sha256(text)
    }

    /// Runs `make` in the open session under the idempotency key, mapping the outcomes.
    func play(campaign: String, key: String?, request: [String?], make: @escaping @Sendable (PlaySessionRecord, Int) throws -> NewCampaignEvent)
        async throws -> (entry: Components.Schemas.LogEntry, replayed: Bool) {
        let claim = key.map { IdempotencyClaim(key: $0, requestHash: Self.requestHash(request)) }
        let outcome: PlayOutcome
        let commitment = Mutex<String?>(nil)
        do {
            outcome = try await storage.play.play(campaignId: campaign, actorId: try principal.user.id, idempotency: claim) { session, nonce in
                commitment.withLock { $0 = session.commitment }
                return try make(session, nonce)
            }
        } catch let error as EngineError {
            throw Problem.unprocessable("/", .rulesRefuse, ["reason": error.description])
        }
        switch outcome {
        case .recorded(let event):
            return (try await published(event, commitment: commitment.withLock { $0 }), false)
        case .replayed(let event):
            return (try await entry(event), true)
        case .keyReused:
            throw Problem.unprocessable("Idempotency-Key", .idempotencyKeyReused)
        case .noSession:
            throw Problem.conflict(.noOpenSession)
        case .archived:
            throw Problem.conflict(.campaignArchived)
        }
    }

    /// The event as a log entry, with its session's commitment (read unless given).
    func entry(_ event: CampaignEvent, commitment known: String? = nil) async throws -> Components.Schemas.LogEntry {
        var commitment = known
        if commitment == nil, let id = event.sessionId { commitment = try await storage.play.session(id: id)?.commitment }
        return try Self.logEntry(event, commitment: commitment)
    }

    /// The fields every roll and check stores for its verification.
    static func writeSeed(_ writer: inout JSONWriter, session: PlaySessionRecord, nonce: Int, seed: UInt64) {
        writer.field("session", session.id)
        writer.field("nonce", nonce)
        writer.field("client_seed", session.clientSeed)
        writer.field("seed", String(seed))
    }

    func rollDice(_ input: Operations.RollDice.Input) async throws -> Operations.RollDice.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let campaign = try await activeCampaign(input.path.campaignId)
        let expression: DiceExpression
        do {
            expression = try DiceExpression(body.expression)
        } catch {
            throw Problem.unprocessable("/expression", .rulesRefuse, ["reason": error.description])
        }
        var stats: [String: Int64] = [:]
        var characterName: String?
        if let id = body.character {
            let record = try await characterRecord(id, campaign: campaign.id)
            let sheet = try Self.sheet(record, try await ruleset(of: campaign))
            for reference in expression.statReferences {
                do {
                    stats[reference] = try sheet.value(reference)
                } catch {
                    throw Problem.unprocessable("/expression", .rulesRefuse, ["reason": error.description])
                }
            }
            characterName = record.name
        } else if let reference = expression.statReferences.first {
            throw Problem.unprocessable("/character", .rulesRefuse, ["reason": "@\(reference) needs a character to read it from"])
        }
        let label = body.label
        let character = body.character
        let result = try await play(campaign: campaign.id, key: input.headers.idempotencyKey,
                                    request: ["roll", body.expression, body.character, body.label]) { [stats, characterName] session, nonce in
            guard let seed = FairDice.seed(serverSeed: session.serverSeed, clientSeed: session.clientSeed, nonce: nonce) else {
                throw EngineError(.error, "the session's server seed is not hex")
            }
            var rng = RNG(seed: seed)
            let roll = try expression.rollDetailed(using: &rng, stats: stats)
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("expression", expression.source)
            if let label { writer.field("label", label) }
            if let character { writer.field("character", character) }
            if let characterName { writer.field("character_name", characterName) }
            writer.key("stats")
            writer.beginObject()
            for (id, value) in stats.sorted(by: { $0.key < $1.key }) { writer.field(id, value) }
            writer.endObject()
            writer.field("total", roll.total)
            writer.key("result")
            roll.write(to: &writer)
            Self.writeSeed(&writer, session: session, nonce: nonce, seed: seed)
            writer.endObject()
            return NewCampaignEvent(kind: "roll", actorId: RequestInfo.current?.principal?.user.id, characterId: character, payload: writer.output)
        }
        return result.replayed ? .ok(.init(body: .json(result.entry))) : .created(.init(body: .json(result.entry)))
    }

    func rollCheck(_ input: Operations.RollCheck.Input) async throws -> Operations.RollCheck.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        guard (body.dc == nil) != (body.against == nil) else { throw Problem.unprocessable("/dc", .dcOrAgainst) }
        let campaign = try await activeCampaign(input.path.campaignId)
        let loaded = try await ruleset(of: campaign)
        let record = try await characterRecord(body.character, campaign: campaign.id)
        let sheet = try Self.sheet(record, loaded)
        guard let check = loaded.ruleset.check(body.check) else {
            throw Problem.unprocessable("/check", .rulesRefuse, ["reason": "'\(body.check)' is not a check of this campaign's ruleset"])
        }
        var opponent: (record: CharacterRecord, sheet: CharacterSheet)?
        if let against = body.against {
            let other = try await characterRecord(against, campaign: campaign.id)
            opponent = (other, try Self.sheet(other, loaded))
        }
        let languages = try languages(input.query.lang)
        let tags = Set(body.tags ?? [])
        let advantage = Self.advantage(body.advantage?.rawValue)
        let opposingAdvantage = Self.advantage(body.againstAdvantage?.rawValue)
        let dc = try body.dc.map { Int64(try Self.bounded($0, Self.statValues, field: "/dc")) }
        let opposingCheck = body.againstCheck
        let characterId = record.id
        let characterName = record.name
        let stats = record.stats
        let sources = record.sources.map(\.id)
        let label = body.label
        let requestParts: [String?] = ["check", body.character, body.check, body.dc.map(String.init), body.against, body.againstCheck,
                                       body.advantage?.rawValue, body.againstAdvantage?.rawValue, tags.sorted().joined(separator: ","), body.label]
        let result = try await play(campaign: campaign.id, key: input.headers.idempotencyKey, request: requestParts) { [opponent] session, nonce in
            guard let seed = FairDice.seed(serverSeed: session.serverSeed, clientSeed: session.clientSeed, nonce: nonce) else {
                throw EngineError(.error, "the session's server seed is not hex")
            }
            var rng = RNG(seed: seed)
            let outcome: CheckResult
            if let opponent {
                outcome = try sheet.check(check.id, against: opponent.sheet, opposingCheck: opposingCheck, advantage: advantage,
                                          opposingAdvantage: opposingAdvantage, tags: tags, using: &rng)
            } else {
                outcome = try sheet.check(check.id, dc: dc ?? 0, advantage: advantage, tags: tags, using: &rng)
            }
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("check", check.id)
            writer.key("check_names")
            writer.beginObject()
            for language in languages { writer.field(language, loaded.name(of: check.id, language: language) ?? check.id) }
            writer.endObject()
            writer.key("band_names")
            writer.beginObject()
            for language in languages {
                writer.field(language, loaded.bandName(check: check.id, band: outcome.bandId, language: language) ?? outcome.bandId)
            }
            writer.endObject()
            if let label { writer.field("label", label) }
            writer.field("character", characterId)
            writer.field("character_name", characterName)
            if let opponent { writer.field("against", opponent.record.id) }
            // What `rfl check --character FILE` reads to replay it.
            writer.key("character_file")
            writer.beginObject()
            writer.key("stats")
            writer.beginObject()
            for (id, value) in stats.sorted(by: { $0.key < $1.key }) { writer.field(id, value) }
            writer.endObject()
            writer.key("apply")
            writer.beginArray()
            for source in sources { writer.value(source) }
            writer.endArray()
            writer.endObject()
            writer.field("total", outcome.total)
            writer.field("band", outcome.bandId)
            writer.key("result")
            outcome.write(to: &writer)
            Self.writeSeed(&writer, session: session, nonce: nonce, seed: seed)
            writer.endObject()
            return NewCampaignEvent(kind: "check", actorId: RequestInfo.current?.principal?.user.id, characterId: characterId, payload: writer.output)
        }
        return result.replayed ? .ok(.init(body: .json(result.entry))) : .created(.init(body: .json(result.entry)))
    }

    func listLog(_ input: Operations.ListLog.Input) async throws -> Operations.ListLog.Output {
        let query = input.query
        let cursor = try Self.sequenceCursor(query.cursor)
        let limit = Self.pageLimit(query.limit)
        let events = try await storage.play.events(campaignId: input.path.campaignId,
                                                   CampaignEventFilter(kind: query.kind, characterId: query.character, sessionId: query.session),
                                                   after: cursor, limit: limit + 1)
        let page = events.prefix(limit)
        var commitments: [String: String] = [:]
        for id in Set(page.compactMap(\.sessionId)) { commitments[id] = try await storage.play.session(id: id)?.commitment }
        let items = try page.map { try Self.logEntry($0, commitment: $0.sessionId.flatMap { commitments[$0] }) }
        return .ok(.init(body: .json(.init(items: items, next: events.count > limit ? page.last.map { String($0.sequence) } : nil))))
    }

    /// A plain request for the live socket (the upgrade itself is handled before the router).
    func connectLive(_ input: Operations.ConnectLive.Input) async throws -> Operations.ConnectLive.Output {
        throw Problem.upgradeRequired()
    }

    func sampleRoll(_ input: Operations.SampleRoll.Input) async throws -> Operations.SampleRoll.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let expression: DiceExpression
        do {
            expression = try DiceExpression(body.expression)
        } catch {
            throw Problem.unprocessable("/expression", .rulesRefuse, ["reason": error.description])
        }
        var seed = RNG.systemSeed()
        if let text = body.seed {
            guard let value = UInt64(text) else { throw Problem.validation("/seed", .fieldInvalid) }
            seed = value
        }
        var rng = RNG(seed: seed)
        var stats: [String: Int64] = [:]
        for (id, value) in body.stats?.additionalProperties ?? [:] { stats[id] = Int64(try Self.bounded(value, Self.statValues, field: "/stats/\(id)")) }
        let roll: Roll
        do {
            roll = try expression.rollDetailed(using: &rng, stats: stats)
        } catch {
            throw Problem.unprocessable("/expression", .rulesRefuse, ["reason": error.description])
        }
        let result = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(roll.json.utf8))
        return .ok(.init(body: .json(.init(expression: body.expression, seed: String(seed), total: Int(roll.total),
                                           result: .init(additionalProperties: result)))))
    }

    // MARK: - Odds

    func computeOdds(_ input: Operations.ComputeOdds.Input) async throws -> Operations.ComputeOdds.Output {
        guard case .json(let body) = input.body else { throw Problem.unsupportedMediaType() }
        guard (body.expression == nil) != (body.check == nil) else { throw Problem.unprocessable("/expression", .expressionOrCheck) }
        var loaded: LoadedRuleset?
        var sheet: CharacterSheet?
        var campaign: CampaignRecord?
        if let id = body.campaign {
            // A campaign that is not the caller's is answered as missing.
            guard try await storage.campaigns.role(campaignId: id, userId: try principal.user.id) != nil else {
                throw Problem.notFound(.campaignNotFound)
            }
            let record = try await campaignRecord(id)
            campaign = record
            loaded = try await ruleset(of: record)
        }
        if let id = body.character {
            guard let campaign, let loaded else { throw Problem.unprocessable("/campaign", .fieldRequired) }
            sheet = try Self.sheet(try await characterRecord(id, campaign: campaign.id), loaded)
        } else if let packs = body.packs {
            // A character made up here, on the rules of these packs (the dice lab).
            guard campaign == nil else { throw Problem.unprocessable("/packs", .fieldInvalid) }
            let pinned: [PinnedPack]
            let composed: LoadedRuleset
            do {
                pinned = try await services.packs.resolve(requested: packs.map { ($0.id, $0.version) })
                composed = try await services.packs.ruleset(pinned)
            } catch let problem as PackLibrary.ResolutionProblem {
                throw Problem.unprocessable(problem.field, .packsUnresolved, ["reason": problem.message])
            }
            var record = CharacterRecord(id: "", campaignId: "", ownerId: "", name: "", stats: [:], sources: [], version: 0, createdAt: Date(), updatedAt: Date())
            record.stats = try Self.checkedStats(body.stats?.additionalProperties ?? [:], onto: record, composed)
            for (index, id) in (body.apply ?? []).enumerated() {
                guard let source = composed.ruleset.source(id) else {
                    throw Problem.unprocessable("/apply/\(index)", .rulesRefuse, ["reason": "'\(id)' is not an item, condition or other source of these packs"])
                }
                record.sources.append(AppliedSource(id: source.id, remaining: nil))
            }
            loaded = composed
            sheet = try Self.sheet(record, composed)
        }
        let json: String
        do {
            if let text = body.expression {
                let expression = try DiceExpression(text, limits: Limits(maxOddsWork: configuration.oddsMaxWork))
                var stats: [String: Int64] = [:]
                if !expression.statReferences.isEmpty {
                    guard let sheet else { throw Problem.unprocessable("/character", .fieldRequired) }
                    for reference in expression.statReferences { stats[reference] = try sheet.value(reference) }
                }
                json = try expression.odds(stats: stats).json(expression: text)
            } else {
                guard let sheet, let loaded, let checkId = body.check else { throw Problem.unprocessable("/character", .fieldRequired) }
                guard (body.dc == nil) != (body.against == nil) else { throw Problem.unprocessable("/dc", .dcOrAgainst) }
                let tags = Set(body.tags ?? [])
                let advantage = Self.advantage(body.advantage?.rawValue)
                if let against = body.against {
                    guard let campaign else { throw Problem.unprocessable("/against", .fieldInvalid) }
                    let other = try Self.sheet(try await characterRecord(against, campaign: campaign.id), loaded)
                    json = try sheet.checkOdds(checkId, against: other, opposingCheck: body.againstCheck, advantage: advantage,
                                               opposingAdvantage: Self.advantage(body.againstAdvantage?.rawValue), tags: tags).json
                } else {
                    let dc = try Self.bounded(body.dc ?? 0, Self.statValues, field: "/dc")
                    json = try sheet.checkOdds(checkId, dc: Int64(dc), advantage: advantage, tags: tags).json
                }
            }
        } catch let error as EngineError {
            throw Problem.unprocessable(body.expression != nil ? "/expression" : "/check", .rulesRefuse, ["reason": error.description])
        }
        let odds = try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(json.utf8))
        return .ok(.init(body: .json(.init(additionalProperties: odds))))
    }
}
