import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSTesting
@testable import ReferenceServer
import Synchronization
import Testing
import WSClient

/// One live socket of a test: what it received, and a way to close it.
final class LiveRecorder: Sendable {
    private let texts = Mutex<[String]>([])
    let stop: AsyncStream<Void>
    private let stopper: AsyncStream<Void>.Continuation
    /// The socket's close frame, once closed.
    let closeCode = Mutex<UInt16?>(nil)
    let ended = Mutex(false)

    init() {
        (stop, stopper) = AsyncStream.makeStream(of: Void.self)
    }

    func append(_ text: String) { texts.withLock { $0.append(text) } }
    func close() { stopper.yield(); stopper.finish() }

    /// Every message as JSON.
    var messages: [[String: Any]] {
        texts.withLock { $0 }.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:] }
    }
    func messages(_ type: String) -> [[String: Any]] { messages.filter { $0["type"] as? String == type } }
    /// The sequences of the events received, in order.
    var sequences: [Int] { messages("event").compactMap { $0["sequence"] as? Int } }
    var lastSequence: Int { sequences.last ?? 0 }

    /// Connects (in the background) and records until closed by either side.
    static func connect(_ client: any TestClientProtocol, _ path: String, header token: String? = nil, hello: String? = nil,
                        send: [String] = []) -> LiveRecorder {
        let recorder = LiveRecorder()
        var configuration = WebSocketClientConfiguration()
        if let token { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        Task {
            let frame = try? await client.ws(path, configuration: configuration) { inbound, outbound, _ in
                if let hello { try await outbound.write(.text(hello)) }
                for message in send { try await outbound.write(.text(message)) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in recorder.stop { break }
                        // Closed by the server meanwhile: the socket is gone, nothing to close.
                        if Task.isCancelled { return }
                        try await outbound.close(.normalClosure, reason: "bye")
                    }
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        if case .text(let text) = message { recorder.append(text) }
                    }
                    group.cancelAll()
                }
            }
            if let frame {
                let code: UInt16? = switch frame.closeCode {
                case .unknown(let value): value
                case .normalClosure: 1000
                case .goingAway: 1001
                case .policyViolation: 1008
                default: 1
                }
                recorder.closeCode.withLock { $0 = code }
            }
            recorder.ended.withLock { $0 = true }
        }
        return recorder
    }
}

/// Waits until `condition` holds, checking every 10 ms, for at most `seconds`.
func eventually(_ seconds: Double = 20, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}

@Suite struct LiveTests {
    /// The table of the issue: a game master and six players play a scene over the API while
    /// connected to the live socket; two players drop out and come back with the last sequence
    /// they saw. Everyone ends with every event exactly once, in order.
    @Test func aTableOfSixPlaysASceneLive() async throws {
        let names = ["alice", "bruno", "carmen", "dmitri", "eun", "farah"]
        let server = try TestServer()
        try await server.addUser("gamemaster", role: .gameMaster)
        for name in names { try await server.addUser(name) }
        try await server.testLive { client in
            let table = try await Table.make(client, players: names)
            let live = "\(table.path)/live"
            // Half authenticate by header, half by a first hello message; all from the start.
            var sockets = [LiveRecorder.connect(client, live + "?after=0", header: table.gameMaster)]
            for (index, token) in table.players.enumerated() {
                sockets.append(index % 2 == 0 ? LiveRecorder.connect(client, live + "?after=0", header: token)
                                              : LiveRecorder.connect(client, live, hello: #"{"type":"hello","token":"\#(token)","after":0}"#))
            }
            #expect(try await eventually { sockets.allSatisfy { !$0.messages("welcome").isEmpty } })
            #expect(try await eventually { sockets.allSatisfy { ($0.messages("presence").last?["connected"] as? [Any])?.count == 7 } })
            // Characters, a session, rolls and checks.
            var characters: [String] = []
            for (index, token) in table.players.enumerated() {
                let created = try await client.call(.post, "\(table.path)/characters", token: token, json: #"{"name":"PC \#(index)","stats":{"speaking":\#(index + 1)}}"#)
                characters.append(created.json["id"] as? String ?? "")
            }
            #expect(try await client.call(.post, "\(table.path)/sessions", token: table.gameMaster).status == .created)
            for (index, token) in table.players.enumerated() {
                #expect(try await client.call(.post, "\(table.path)/rolls", token: token, json: #"{"expression":"1d20+@speaking","character":"\#(characters[index])"}"#).status == .created)
            }
            // Two players drop out.
            let newest = { sockets[0].lastSequence }
            #expect(try await eventually { sockets.allSatisfy { $0.lastSequence == newest() } })
            let dropped = [sockets[5], sockets[6]]
            for socket in dropped { socket.close() }
            #expect(try await eventually { dropped.allSatisfy { $0.ended.withLock { $0 } } })
            #expect(try await eventually { (sockets[0].messages("presence").last?["connected"] as? [Any])?.count == 5 })
            // The scene goes on without them.
            #expect(try await client.call(.post, "\(table.path)/checks", token: table.players[0],
                                          json: #"{"character":"\#(characters[0])","check":"persuade-merchant","against":"\#(characters[1])"}"#).status == .created)
            #expect(try await client.call(.post, "\(table.path)/characters/\(characters[4])/sources", token: table.gameMaster,
                                          json: #"{"source":"tired"}"#, headers: [.ifMatch: "\"v1\""]).status == .ok)
            for token in table.players.prefix(4) {
                #expect(try await client.call(.post, "\(table.path)/rolls", token: token, json: #"{"expression":"2d6"}"#).status == .created)
            }
            // They come back with the last sequence each saw.
            let resumed = [LiveRecorder.connect(client, live + "?after=\(dropped[0].lastSequence)", header: table.players[4]),
                           LiveRecorder.connect(client, live, hello: #"{"type":"hello","token":"\#(table.players[5])","after":\#(dropped[1].lastSequence)}"#)]
            #expect(try await eventually { resumed.allSatisfy { !$0.messages("welcome").isEmpty } })
            for token in table.players {
                #expect(try await client.call(.post, "\(table.path)/rolls", token: token, json: #"{"expression":"1d4"}"#).status == .created)
            }
            let sessions = try await client.call(.get, "\(table.path)/sessions", token: table.gameMaster)
            let sessionId = (sessions.json["items"] as? [[String: Any]])?.first?["id"] as? String ?? ""
            let ended = try await client.call(.post, "\(table.path)/sessions/\(sessionId)/end", token: table.gameMaster)
            #expect(ended.status == .ok)
            let final = try await client.call(.get, "\(table.path)/log?limit=100", token: table.gameMaster)
            let all = (final.json["items"] as? [[String: Any]] ?? []).compactMap { $0["sequence"] as? Int }
            let everyone = [sockets[0], sockets[1], sockets[2], sockets[3], sockets[4]] + resumed
            #expect(try await eventually { everyone.allSatisfy { $0.lastSequence == all.last } }, "\(everyone.map(\.lastSequence)) vs \(all.last ?? 0)")
            // Every event exactly once and in order, across a drop-out and a return.
            for socket in sockets.prefix(5) { #expect(socket.sequences == all) }
            for (before, after) in zip(dropped, resumed) { #expect(before.sequences + after.sequences == all) }
            // The events carry the log's entries: a roll's total and its verification.
            let roll = sockets[1].messages("event").first { ($0["event"] as? [String: Any])?["kind"] as? String == "roll" }
            let entry = roll?["event"] as? [String: Any]
            #expect((entry?["payload"] as? [String: Any])?["total"] is Int && entry?["verification"] != nil)
            // Each event is the log's entry, field for field.
            let logged = (final.json["items"] as? [[String: Any]] ?? []).map { NSDictionary(dictionary: $0) }
            let streamed = sockets[3].messages("event").compactMap { ($0["event"] as? [String: Any]).map { NSDictionary(dictionary: $0) } }
            #expect(streamed == logged)
            for socket in everyone { socket.close() }
            #expect(try await eventually { everyone.allSatisfy { $0.ended.withLock { $0 } } })
        }
    }

    /// Two instances on one PostgreSQL database (PostgreSQL runs only): players whose sockets are
    /// on different instances, rolls made through both, and every socket sees every entry once,
    /// in the log's order, whichever instance stored it.
    @Test func rollsThroughOneInstanceReachTheSocketsOfAnother() async throws {
        let first = try TestServer()
        guard first.configuration.databaseURL != nil else {
            try Test.cancel("two instances need PostgreSQL: RFL_TEST_SERVER_ENGINE=postgresql (make postgres-test)")
        }
        let second = try TestServer(sharing: first)
        try await first.addUser("gamemaster", role: .gameMaster)
        for name in ["alice", "bruno"] { try await first.addUser(name) }
        try await first.testLive { one in
            try await second.testLive { two in
                let table = try await Table.make(one, players: ["alice", "bruno"])
                let live = "\(table.path)/live?after=0"
                let sockets = [LiveRecorder.connect(one, live, header: table.gameMaster), LiveRecorder.connect(two, live, header: table.players[0]),
                               LiveRecorder.connect(two, live, header: table.players[1])]
                #expect(try await eventually { sockets.allSatisfy { !$0.messages("welcome").isEmpty } })
                #expect(try await one.call(.post, "\(table.path)/sessions", token: table.gameMaster).status == .created)
                for index in 0..<12 {
                    let (client, token) = index % 2 == 0 ? (one, table.players[index % 4 == 0 ? 0 : 1]) : (two, table.gameMaster)
                    #expect(try await client.call(.post, "\(table.path)/rolls", token: token, json: #"{"expression":"1d20"}"#).status == .created)
                }
                let log = try await two.call(.get, "\(table.path)/log?limit=100", token: table.gameMaster)
                let all = (log.json["items"] as? [[String: Any]] ?? []).compactMap { $0["sequence"] as? Int }
                // Two players joining, the session, twelve rolls; the last one made through the second.
                #expect(all.count == 2 + 1 + 12, "\(all)")
                #expect(try await eventually { sockets.allSatisfy { $0.lastSequence == all.last } }, "\(sockets.map(\.lastSequence)) vs \(all)")
                for socket in sockets { #expect(socket.sequences == all) }
                for socket in sockets { socket.close() }
                #expect(try await eventually { sockets.allSatisfy { $0.ended.withLock { $0 } } })
            }
        }
    }

    /// A ring's text: the instance, the sequence, then the campaign whatever it holds; anything
    /// else is not a ring.
    @Test func doorbellRingsReadBackAndNothingElseDoes() {
        let text = PostgresDoorbell.payload(instance: "i-1", campaignId: "c 1", sequence: 42)
        let ring = PostgresDoorbell.ring(text)
        #expect(ring?.instance == "i-1" && ring?.campaignId == "c 1" && ring?.sequence == 42)
        for bad in ["", "i-1", "i-1 42", "i-1 42 ", "i-1 x c-1", "i-1 99999999999999999999 c-1"] {
            #expect(PostgresDoorbell.ring(bad) == nil, "\(bad)")
        }
    }

    @Test func socketsAuthenticateWithoutTheURLAndOnlyMembersGetIn() async throws {
        let server = try TestServer()
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.addUser("alice")
        try await server.addUser("outsider")
        try await server.testLive { client in
            let table = try await Table.make(client, players: ["alice"])
            let live = "\(table.path)/live"
            // Nothing: after the hello timeout's first message is not a hello, refused.
            let noHello = LiveRecorder.connect(client, live, hello: #"{"type":"ping"}"#)
            #expect(try await eventually { noHello.ended.withLock { $0 } })
            #expect(noHello.closeCode.withLock { $0 } == 4401 && noHello.messages("error").first?["code"] as? Int == 4401)
            let forged = LiveRecorder.connect(client, live, header: "not.a.token")
            #expect(try await eventually { forged.ended.withLock { $0 } })
            #expect(forged.closeCode.withLock { $0 } == 4401)
            let outsider = LiveRecorder.connect(client, live, header: try await client.login("outsider").access)
            #expect(try await eventually { outsider.ended.withLock { $0 } })
            #expect(outsider.closeCode.withLock { $0 } == 4404 && outsider.messages("welcome").isEmpty)
            // A plain GET is told to upgrade.
            let plain = try await client.call(.get, live, token: table.players[0])
            #expect(plain.status.code == 426 && plain.headers[.upgrade] == "websocket" && plain.problemType == "upgrade-required")
            // A member gets in, and pings are answered.
            let member = LiveRecorder.connect(client, live, header: table.players[0], send: [#"{"type":"ping"}"#])
            #expect(try await eventually { !member.messages("pong").isEmpty })
            #expect(member.messages("welcome").first?["role"] as? String == "player")
            // A sequence from the future (another database) starts from now, missing nothing new.
            let ahead = LiveRecorder.connect(client, live + "?after=999999", header: table.gameMaster)
            #expect(try await eventually { !ahead.messages("welcome").isEmpty })
            #expect(try await client.call(.post, "\(table.path)/characters", token: table.players[0], json: #"{"name":"Ana"}"#).status == .created)
            let log = try await client.call(.get, "\(table.path)/log?kind=character.created", token: table.gameMaster)
            let newest = (log.json["items"] as? [[String: Any]])?.last?["sequence"] as? Int
            #expect(newest != nil)
            #expect(try await eventually { ahead.sequences == [newest ?? -1] })
            member.close()
            ahead.close()
            #expect(try await eventually { member.ended.withLock { $0 } && ahead.ended.withLock { $0 } })
        }
    }

    /// The upgrade takes the path of every request: the router's spellings reach the socket, the
    /// contract checks its parameters, and an upgrade of another operation is refused.
    @Test func theUpgradeTakesTheRequestPath() async throws {
        let server = try TestServer()
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.addUser("alice")
        try await server.testLive { client in
            let table = try await Table.make(client, players: ["alice"])
            let spelled = LiveRecorder.connect(client, "/\(table.path)//live/", header: table.players[0])
            #expect(try await eventually { !spelled.messages("welcome").isEmpty })
            spelled.close()
            // Refused before any socket: no welcome, no close frame.
            for path in ["\(table.path)/live?after=not-a-number", "\(table.path)/live?unknown=1", "/healthz", "/v1/auth/logout"] {
                let refused = LiveRecorder.connect(client, path, header: table.players[0])
                #expect(try await eventually { refused.ended.withLock { $0 } }, "\(path)")
                #expect(refused.messages.isEmpty && refused.closeCode.withLock { $0 } == nil, "\(path)")
            }
            // The session survived the refused upgrade of logout: the handler never ran.
            #expect(try await client.call(.get, "/v1/me", token: table.players[0]).status == .ok)
            #expect(try await eventually { spelled.ended.withLock { $0 } })
        }
    }

    @Test func chattyClientsAreClosedAndHeartbeatsFlow() async throws {
        let server = try TestServer { $0.liveMessagesBurst = 3; $0.liveMessagesPerMinute = 1; $0.liveHeartbeatSeconds = 1 }
        try await server.addUser("gamemaster", role: .gameMaster)
        try await server.addUser("alice")
        try await server.addUser("bruno")
        try await server.testLive { client in
            let table = try await Table.make(client, players: ["alice", "bruno"])
            let quiet = LiveRecorder.connect(client, "\(table.path)/live", header: table.players[0])
            #expect(try await eventually { !quiet.messages("heartbeat").isEmpty })
            // A player removed from the campaign is cut off at once; one who logs out, at the
            // next heartbeat.
            let removed = LiveRecorder.connect(client, "\(table.path)/live", header: table.players[1])
            #expect(try await eventually { !removed.messages("welcome").isEmpty })
            let brunoId = try await client.call(.get, "/v1/me", token: table.players[1]).json["id"] as? String ?? ""
            #expect(try await client.call(.delete, "\(table.path)/members/\(brunoId)", token: table.gameMaster).status == .noContent)
            #expect(try await eventually { removed.ended.withLock { $0 } })
            #expect(removed.closeCode.withLock { $0 } == 4404)
            let leaving = LiveRecorder.connect(client, "\(table.path)/live", header: try await client.login("alice").access)
            #expect(try await eventually { !leaving.messages("welcome").isEmpty })
            #expect(try await client.call(.post, "/v1/auth/logout", token: table.players[0]).status == .noContent)
            #expect(try await eventually { quiet.ended.withLock { $0 } })
            #expect(quiet.closeCode.withLock { $0 } == 4401)
            #expect(leaving.ended.withLock { $0 } == false)
            leaving.close()
            let chatty = LiveRecorder.connect(client, "\(table.path)/live", header: table.gameMaster, send: Array(repeating: #"{"type":"ping"}"#, count: 10))
            #expect(try await eventually { chatty.ended.withLock { $0 } })
            #expect(chatty.closeCode.withLock { $0 } == 4029 && chatty.messages("pong").count == 3)
            #expect(try await eventually { leaving.ended.withLock { $0 } })
        }
    }

    @Test func aSlowSubscriberIsCutOffNotBuffered() async throws {
        let hub = InProcessLiveHub()
        let slow = hub.subscribe(campaignId: "c", limit: 3)
        let fine = hub.subscribe(campaignId: "c", limit: 100)
        #expect(hub.subscriberCount(campaignId: "c") == 2)
        for sequence in 1...5 {
            hub.publish(.event(CampaignEvent(campaignId: "c", sequence: Int64(sequence), at: Date(), kind: "roll", actorId: nil, characterId: nil,
                                             sessionId: nil, nonce: nil, payload: "{}"), envelope: "{}"), campaignId: "c")
        }
        #expect(slow.overflowed && !fine.overflowed)
        // The slow one keeps what it had buffered, then ends; the hub has let it go.
        var received: [Int64] = []
        for await message in slow.messages { if case .event(let event, _) = message { received.append(event.sequence) } }
        #expect(received == [1, 2, 3])
        #expect(hub.subscriberCount(campaignId: "c") == 1)
        hub.publish(.presence([]), campaignId: "other")
        fine.cancel()
        #expect(hub.subscriberCount(campaignId: "c") == 0)
        // Presence counts connections per user.
        hub.connect(campaignId: "c", userId: "u1", username: "ana")
        hub.connect(campaignId: "c", userId: "u1", username: "ana")
        hub.connect(campaignId: "c", userId: "u2", username: "ben")
        hub.disconnect(campaignId: "c", userId: "u1")
        #expect(hub.presence(campaignId: "c") == [PresenceEntry(userId: "u1", username: "ana", connections: 1), PresenceEntry(userId: "u2", username: "ben", connections: 1)])
    }
}
