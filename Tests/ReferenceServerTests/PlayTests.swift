import ContentPacks
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Mechanics
@testable import ReferenceServer
import Testing

/// Server-authoritative rolls and checks in play sessions whose dice anyone can verify.
@Suite struct PlayTests {
    /// The derivation as docs/server.md gives it, written out again here.
    static func seed(serverSeed: String, clientSeed: String, nonce: Int) -> UInt64 {
        var key: [UInt8] = []
        var index = serverSeed.startIndex
        while index < serverSeed.endIndex {
            let next = serverSeed.index(index, offsetBy: 2)
            key.append(UInt8(serverSeed[index..<next], radix: 16)!)
            index = next
        }
        let mac = Array(HMAC<SHA256>.authenticationCode(for: Data("\(clientSeed):\(nonce)".utf8), using: SymmetricKey(data: key)))
        return mac[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    @Test func theDerivationIsHMACSHA256() {
        // A fixed vector: anyone's implementation of the documented derivation must agree.
        let serverSeed = String(repeating: "00", count: 31) + "01"
        #expect(FairDice.seed(serverSeed: serverSeed, clientSeed: "table", nonce: 0) == Self.seed(serverSeed: serverSeed, clientSeed: "table", nonce: 0))
        #expect(FairDice.commitment(serverSeed: serverSeed) == SHA256.hash(data: [UInt8](repeating: 0, count: 31) + [1]).map { String(format: "%02x", $0) }.joined())
        #expect(FairDice.seed(serverSeed: "zz", clientSeed: "", nonce: 0) == nil)
        #expect(FairDice.newServerSeed().count == 64 && FairDice.newServerSeed() != FairDice.newServerSeed())
    }

    @Test func rollsNeedAnOpenSessionAndAreIdempotent() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let early = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d20"}"#)
            #expect(early.status == .conflict && early.json["detail"] as? String == "The campaign has no open play session; its game master starts one.")
            #expect(try await client.call(.post, "\(table.path)/sessions", token: alice).status == .forbidden)
            let session = try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster)
            #expect(session.status == .created && session.json["server_seed"] == nil && (session.json["commitment"] as? String)?.count == 64)
            #expect(try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster).status == .conflict)
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "roll-1"]
            let first = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"4d6kh3","label":"strength"}"#, headers: key)
            #expect(first.status == .created, "\(first.text)")
            let again = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"4d6kh3","label":"strength"}"#, headers: key)
            #expect(again.status == .ok && again.json["sequence"] as? Int == first.json["sequence"] as? Int)
            #expect((again.json["payload"] as? [String: Any])?["total"] as? Int == (first.json["payload"] as? [String: Any])?["total"] as? Int)
            let reused = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d100"}"#, headers: key)
            #expect(reused.status == .unprocessableContent && reused.fieldErrors["Idempotency-Key"] != nil)
            // Keys are the caller's own: the game master's "roll-1" is another roll.
            #expect(try await client.call(.post, "\(table.path)/rolls", token: table.gameMaster, json: #"{"expression":"1d100"}"#, headers: key).status == .created)
            let badKey = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d6"}"#,
                                               headers: [HTTPField.Name("Idempotency-Key")!: String(repeating: "k", count: 129)])
            #expect(badKey.status == .badRequest && badKey.fieldErrors["Idempotency-Key"] != nil)
            let syntax = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"2d"}"#)
            #expect(syntax.status == .unprocessableContent && syntax.fieldErrors["/expression"]?.contains("column") == true, "\(syntax.text)")
            let statless = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d20+@speaking"}"#)
            #expect(statless.status == .unprocessableContent && statless.fieldErrors["/character"] != nil)
            let costly = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"10001d6"}"#)
            #expect(costly.status == .unprocessableContent)
            // Refused rolls used no nonce: three rolls made, three nonces.
            let open = try await client.call(.get, "\(table.path)/sessions/\(session.json["id"] as? String ?? "")", token: alice)
            #expect(open.json["rolls"] as? Int == 2 && open.json["open"] as? Bool == true)
        }
    }

    /// A whole session, replayed from what the server publishes: the commitment before the
    /// first roll, every roll's nonce and client seed in the log, the server seed at the end,
    /// and the packs' XML.
    @Test func aWholeSessionReplays() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice", "bruno"])
            let (alice, bruno) = (table.players[0], table.players[1])
            let ana = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4,"haggling":2}}"#)
            let anaId = ana.json["id"] as? String ?? ""
            let ben = try await client.call(.post, "\(table.path)/characters", token: bruno, json: #"{"name":"Ben","stats":{"speaking":2}}"#)
            let benId = ben.json["id"] as? String ?? ""
            #expect(try await client.call(.post, "\(table.path)/characters/\(anaId)/sources", token: table.gameMaster, json: #"{"source":"phrasebook"}"#,
                                          headers: [.ifMatch: "\"v1\""]).status == .ok)
            let session = try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster, json: #"{"client_seed":"first"}"#)
            let sessionId = session.json["id"] as? String ?? ""
            let commitment = session.json["commitment"] as? String ?? ""
            #expect(session.json["client_seed"] as? String == "first")
            var made: [[String: Any]] = []
            for expression in ["1d20", "3d6!", "4d6kh3+2"] {
                made.append(try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"\#(expression)"}"#).json)
            }
            made.append(try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d20+@speaking","character":"\#(anaId)"}"#).json)
            // The players change the client seed mid-session: later rolls use it.
            let reseeded = try await client.call(.put, "\(table.path)/sessions/\(sessionId)/client-seed", token: bruno, json: #"{"client_seed":"bruno's choice"}"#)
            #expect(reseeded.status == .ok && reseeded.json["client_seed"] as? String == "bruno's choice")
            made.append(try await client.call(.post, "\(table.path)/checks", token: alice,
                                              json: #"{"character":"\#(anaId)","check":"persuade-merchant","dc":15,"advantage":"advantage"}"#).json)
            made.append(try await client.call(.post, "\(table.path)/checks", token: bruno,
                                              json: #"{"character":"\#(benId)","check":"persuade-merchant","against":"\#(anaId)"}"#).json)
            #expect(made.allSatisfy { $0["verification"] != nil }, "\(made)")
            // Before the end, the seed is secret.
            #expect(try await client.call(.get, "\(table.path)/sessions/\(sessionId)", token: alice).json["server_seed"] == nil)
            #expect(try await client.call(.post, "\(table.path)/sessions/\(sessionId)/end", token: alice).status == .forbidden)
            let ended = try await client.call(.post, "\(table.path)/sessions/\(sessionId)/end", token: table.gameMaster)
            #expect(ended.status == .ok && ended.json["open"] as? Bool == false)
            let serverSeed = ended.json["server_seed"] as? String ?? ""
            #expect(try await client.call(.post, "\(table.path)/sessions/\(sessionId)/end", token: table.gameMaster).status == .conflict)
            #expect(try await client.call(.put, "\(table.path)/sessions/\(sessionId)/client-seed", token: bruno, json: #"{"client_seed":"x"}"#).status == .conflict)

            // The verifier's side: the commitment matches the revealed seed...
            let seedBytes = stride(from: 0, to: serverSeed.count, by: 2).map { offset -> UInt8 in
                let start = serverSeed.index(serverSeed.startIndex, offsetBy: offset)
                return UInt8(serverSeed[start..<serverSeed.index(start, offsetBy: 2)], radix: 16)!
            }
            #expect(SHA256.hash(data: seedBytes).map { String(format: "%02x", $0) }.joined() == commitment)
            // ...and every roll of the session's log replays from its seed.
            let packs = try await client.call(.get, table.path, token: alice).json["packs"] as? [[String: String]] ?? []
            var sources: [(path: String, xml: [UInt8])] = []
            for pack in packs {
                let xml = try await client.call(.get, "/v1/packs/\(pack["id"]!)/\(pack["version"]!)/xml", token: alice)
                sources.append((pack["id"]!, Array(xml.text.utf8)))
            }
            let loaded = try PackLoader().load(sources: sources)
            let log = try await client.call(.get, "\(table.path)/log?session=\(sessionId)&limit=100", token: bruno)
            let entries = (log.json["items"] as? [[String: Any]] ?? []).filter { ["roll", "check"].contains($0["kind"] as? String) }
            #expect(entries.count == 6)
            #expect(entries.map { $0["sequence"] as? Int } == made.map { $0["sequence"] as? Int })
            for (expectedNonce, entry) in entries.enumerated() {
                let verification = entry["verification"] as? [String: Any] ?? [:]
                let payload = entry["payload"] as? [String: Any] ?? [:]
                let nonce = verification["nonce"] as? Int ?? -1
                #expect(nonce == expectedNonce)
                #expect(verification["commitment"] as? String == commitment)
                let clientSeed = verification["client_seed"] as? String ?? ""
                #expect(clientSeed == (expectedNonce < 4 ? "first" : "bruno's choice"))
                let seed = Self.seed(serverSeed: serverSeed, clientSeed: clientSeed, nonce: nonce)
                #expect(verification["seed"] as? String == String(seed))
                var rng = RNG(seed: seed)
                if entry["kind"] as? String == "roll" {
                    let stats = (payload["stats"] as? [String: Int] ?? [:]).mapValues(Int64.init)
                    let roll = try DiceExpression(payload["expression"] as? String ?? "").rollDetailed(using: &rng, stats: stats)
                    #expect(Int(roll.total) == payload["total"] as? Int)
                    var writer = JSONWriter()
                    roll.write(to: &writer)
                    #expect(NSDictionary(dictionary: try JSONSerialization.jsonObject(with: Data(writer.output.utf8)) as? [String: Any] ?? [:])
                            == NSDictionary(dictionary: payload["result"] as? [String: Any] ?? ["differs": true]))
                } else {
                    func sheet(_ file: [String: Any]) throws -> CharacterSheet {
                        var sheet = CharacterSheet(ruleset: loaded.ruleset)
                        for (id, value) in file["stats"] as? [String: Int] ?? [:] { try sheet.set(id, to: Int64(value)) }
                        for source in file["apply"] as? [String] ?? [] { try sheet.apply(source) }
                        return sheet
                    }
                    let own = try sheet(payload["character_file"] as? [String: Any] ?? [:])
                    let result = payload["result"] as? [String: Any] ?? [:]
                    let replayed: CheckResult
                    if let against = payload["against"] as? String {
                        #expect(against == anaId)
                        // The opponent as the log shows them at the time: Ana with her phrasebook.
                        let opponent = try sheet(["stats": ["core:speaking": 4, "core:haggling": 2], "apply": ["core:phrasebook"]])
                        replayed = try own.check("persuade-merchant", against: opponent, using: &rng)
                    } else {
                        replayed = try own.check("persuade-merchant", dc: 15, advantage: 1, using: &rng)
                    }
                    #expect(Int(replayed.total) == result["total"] as? Int && replayed.bandId == payload["band"] as? String)
                    #expect(replayed.rolls.map { Int($0.total) } == (result["rolls"] as? [[String: Any]] ?? []).map { $0["total"] as? Int ?? -1 })
                }
            }
        }
    }

    @Test func checksCarryTheBandAndTheBreakdown() async throws {
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice", "bruno"])
            let alice = table.players[0]
            let ana = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4}}"#)
            let anaId = ana.json["id"] as? String ?? ""
            _ = try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster)
            let check = try await client.call(.post, "\(table.path)/checks", token: alice, json: #"{"character":"\#(anaId)","check":"persuade-merchant","dc":12,"tags":["night"]}"#,
                                              headers: [.acceptLanguage: "es"])
            #expect(check.status == .created, "\(check.text)")
            let payload = check.json["payload"] as? [String: Any] ?? [:]
            let result = payload["result"] as? [String: Any] ?? [:]
            #expect(result["dc"] as? Int == 12 && (result["contributions"] as? [Any])?.isEmpty == false)
            #expect((payload["band_names"] as? [String: String])?.keys.sorted() == ["es"])
            #expect((payload["check_names"] as? [String: String])?["es"] != "persuade-merchant")
            #expect(check.json["character"] as? String == anaId && check.json["kind"] as? String == "check")
            let both = try await client.call(.post, "\(table.path)/checks", token: alice, json: #"{"character":"\#(anaId)","check":"persuade-merchant"}"#)
            #expect(both.status == .unprocessableContent && both.fieldErrors["/dc"] == "Give either dc or against, not both or neither.")
            let unknown = try await client.call(.post, "\(table.path)/checks", token: alice, json: #"{"character":"\#(anaId)","check":"fly","dc":5}"#)
            #expect(unknown.status == .unprocessableContent && unknown.fieldErrors["/check"] != nil)
            let nobody = try await client.call(.post, "\(table.path)/checks", token: alice, json: #"{"character":"nobody","check":"persuade-merchant","dc":5}"#)
            #expect(nobody.status == .notFound)
            // The log filters by kind and character, and pages.
            for _ in 0..<4 { _ = try await client.call(.post, "\(table.path)/rolls", token: alice, json: #"{"expression":"1d6"}"#) }
            let checks = try await client.call(.get, "\(table.path)/log?kind=check&character=\(anaId)", token: table.players[1])
            #expect((checks.json["items"] as? [Any])?.count == 1)
            var seen: [Int] = []
            var cursor: String?
            repeat {
                let page = try await client.call(.get, "\(table.path)/log?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: alice)
                seen += (page.json["items"] as? [[String: Any]] ?? []).compactMap { $0["sequence"] as? Int }
                cursor = page.json["next"] as? String
            } while cursor != nil
            #expect(seen == Array(1...seen.count) && seen.count >= 8)
            #expect(try await client.call(.get, "\(table.path)/log?cursor=-4", token: alice).status == .badRequest)
        }
    }

    @Test func oddsAreExactAndBounded() async throws {
        let server = try TestServer { $0.oddsMaxWork = 100_000 }
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.addUser("alice")
        try await server.addUser("outsider")
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let odds = try await client.call(.post, "/v1/odds", token: alice, json: #"{"expression":"2d6"}"#)
            #expect(odds.status == .ok, "\(odds.text)")
            #expect(odds.json["expression"] as? String == "2d6" && odds.json["min"] as? Int == 2 && odds.json["max"] as? Int == 12)
            let outcomes = odds.json["distribution"] as? [[String: Any]] ?? []
            #expect(outcomes.count == 11 && abs((outcomes.first { $0["value"] as? Int == 7 }?["probability"] as? Double ?? 0) - 6.0 / 36.0) < 1e-12)
            let costly = try await client.call(.post, "/v1/odds", token: alice, json: #"{"expression":"1000d6"}"#)
            #expect(costly.status == .unprocessableContent && costly.fieldErrors["/expression"]?.contains("maxOddsWork") == true, "\(costly.text)")
            let ana = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4}}"#)
            let anaId = ana.json["id"] as? String ?? ""
            let check = try await client.call(.post, "/v1/odds", token: alice,
                                              json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","check":"persuade-merchant","dc":15}"#)
            #expect(check.status == .ok && check.json["bands"] != nil, "\(check.text)")
            let stat = try await client.call(.post, "/v1/odds", token: alice,
                                             json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","expression":"1d20+@speaking"}"#)
            #expect(stat.status == .ok && stat.json["min"] as? Int == 5 && stat.json["max"] as? Int == 24, "\(stat.text)")
            // Another campaign's characters are not reachable through the odds.
            let outsider = try await client.login("outsider").access
            let sneaky = try await client.call(.post, "/v1/odds", token: outsider,
                                               json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","check":"persuade-merchant","dc":15}"#)
            #expect(sneaky.status == .notFound)
            #expect(try await client.call(.post, "/v1/odds", token: alice, json: #"{}"#).status == .unprocessableContent)
            #expect(try await client.call(.post, "/v1/odds", token: alice, json: #"{"check":"persuade-merchant","dc":3}"#).fieldErrors["/character"] != nil)
            // 6.0 is an integer, as JSON Schema counts.
            #expect(try await client.call(.post, "/v1/odds", token: alice,
                                          json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","check":"persuade-merchant","dc":6.0}"#).status == .ok)
            #expect(try await client.call(.post, "/v1/odds", token: alice,
                                          json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","check":"persuade-merchant","dc":6.5}"#).status == .badRequest)
        }
    }

    /// Numbers at the largest values in rolls, checks, odds and sample rolls: 400 naming the
    /// field, never a trap; the handlers check the contract's bounds again themselves.
    @Test func hostileNumbersAreRefused() async throws {
        #expect(throws: Problem.self) { try API.bounded(Int.max, API.statValues, field: "/dc") }
        #expect(throws: Problem.self) { try API.bounded(Int.min, API.statValues, field: "/dc") }
        #expect(throws: Problem.self) { try API.bounded(0, API.durations, field: "/duration") }
        #expect(try API.bounded(1_000_000_000, API.statValues, field: "/dc") == 1_000_000_000)
        let refusal = #expect(throws: Problem.self) { try API.bounded(2_592_001, API.invitationLifetimes, field: "/expires_in") }
        #expect(refusal?.status == .badRequest && refusal?.errors == [.init("/expires_in", .fieldMaximum, ["max": "2592000"])])
        let server = try await CampaignTests.server()
        try await server.test { client in
            let table = try await Table.make(client, players: ["alice"])
            let alice = table.players[0]
            let ana = try await client.call(.post, "\(table.path)/characters", token: alice, json: #"{"name":"Ana","stats":{"speaking":4}}"#)
            let anaId = ana.json["id"] as? String ?? ""
            #expect(try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster).status == .created)
            let check = try await client.call(.post, "\(table.path)/checks", token: alice,
                                              json: #"{"character":"\#(anaId)","check":"persuade-merchant","dc":9223372036854775807}"#)
            #expect(check.status == .badRequest && check.fieldErrors["/dc"] != nil, "\(check.text)")
            let odds = try await client.call(.post, "/v1/odds", token: alice,
                                             json: #"{"campaign":"\#(table.campaign)","character":"\#(anaId)","check":"persuade-merchant","dc":-9223372036854775808}"#)
            #expect(odds.status == .badRequest && odds.fieldErrors["/dc"] != nil, "\(odds.text)")
            let stats = try await client.call(.post, "/v1/sample-rolls", token: alice, json: #"{"expression":"1d6+@speaking","stats":{"speaking":9223372036854775807}}"#)
            #expect(stats.status == .badRequest && stats.fieldErrors["/stats/speaking"] != nil, "\(stats.text)")
            let sheet = try await client.call(.patch, "\(table.path)/characters/\(anaId)", token: alice, json: #"{"stats":{"speaking":-9223372036854775808}}"#,
                                              headers: [.ifMatch: "\"v1\""])
            #expect(sheet.status == .badRequest && sheet.fieldErrors["/stats/speaking"] != nil, "\(sheet.text)")
            let source = try await client.call(.post, "\(table.path)/characters/\(anaId)/sources", token: table.gameMaster,
                                               json: #"{"source":"phrasebook","duration":9223372036854775807}"#, headers: [.ifMatch: "\"v1\""])
            #expect(source.status == .badRequest && source.fieldErrors["/duration"] != nil, "\(source.text)")
            // Nothing was rolled or changed.
            #expect(try await client.call(.get, "\(table.path)/characters/\(anaId)", token: alice).headers[.eTag] == "\"v1\"")
            #expect((try await client.call(.get, "\(table.path)/log?kind=check", token: alice).json["items"] as? [Any])?.isEmpty == true)
        }
    }
}
