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
        return .ok(.init(body: .json(.init(expression: body.expression, seed: String(seed), total: Int(roll.total), result: Engine.Roll(roll)))))
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
        let odds: Engine.Odds
        do {
            if let text = body.expression {
                let expression = try DiceExpression(text, limits: Limits(maxOddsWork: configuration.oddsMaxWork))
                var stats: [String: Int64] = [:]
                if !expression.statReferences.isEmpty {
                    guard let sheet else { throw Problem.unprocessable("/character", .fieldRequired) }
                    for reference in expression.statReferences { stats[reference] = try sheet.value(reference) }
                }
                odds = .expression(Engine.ExpressionOdds(expression: text, try expression.odds(stats: stats)))
            } else {
                guard let sheet, let loaded, let checkId = body.check else { throw Problem.unprocessable("/character", .fieldRequired) }
                guard (body.dc == nil) != (body.against == nil) else { throw Problem.unprocessable("/dc", .dcOrAgainst) }
                let tags = Set(body.tags ?? [])
                let advantage = PlayService.advantage(body.advantage?.rawValue)
                if let against = body.against {
                    guard let campaign else { throw Problem.unprocessable("/against", .fieldInvalid) }
                    let other = try Self.sheet(try await characterRecord(against, campaign: campaign.id), loaded)
                    odds = .check(Engine.CheckOdds(try sheet.checkOdds(checkId, against: other, opposingCheck: body.againstCheck, advantage: advantage,
                                                                        opposingAdvantage: PlayService.advantage(body.againstAdvantage?.rawValue),
                                                                        tags: tags)))
                } else {
                    let dc = try Self.bounded(body.dc ?? 0, Self.statValues, field: "/dc")
                    odds = .check(Engine.CheckOdds(try sheet.checkOdds(checkId, dc: Int64(dc), advantage: advantage, tags: tags)))
                }
            }
        } catch let error as EngineError {
            throw Problem.unprocessable(body.expression != nil ? "/expression" : "/check", .rulesRefuse, ["reason": error.description])
        }
        return .ok(.init(body: .json(odds)))
    }
}
