import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import Mechanics
import NIOCore
import Synchronization

/// The realtime socket of a campaign, `GET /v1/campaigns/{id}/live` upgraded to a WebSocket.
/// docs/realtime.md is the protocol: authentication by the upgrade's `Authorization` header or a
/// first `hello` message (never the URL), the campaign's events in order from any sequence the
/// client last saw, presence, heartbeats, and bounds on slow or chatty clients.
///
/// The upgrade request takes the same path as every request: the router names its operation
/// (`connectLive`), the address's rate limit and the bearer token are applied by the same
/// middlewares, and its parameters are checked against the contract; ``LiveUpgradeMiddleware``
/// then hands the connection to a ``Connection``.
struct LiveSocket: Sendable {
    let services: Services
    let authenticator: Authenticator

    /// Close codes of the protocol (4000–4999 are the application's).
    enum CloseCode {
        static let unauthenticated: UInt16 = 4401
        static let notFound: UInt16 = 4404
        static let slowConsumer: UInt16 = 4008
        static let tooManyMessages: UInt16 = 4029
        static let badMessage: UInt16 = 4400
    }

    /// The messages a client sends: `hello` (with a token, when the upgrade had no
    /// `Authorization` header, and optionally the last sequence seen) and `ping`.
    struct ClientMessage: Decodable {
        var type: String
        var token: String?
        var after: Int64?
    }

    /// The messages the server sends besides the campaign's events (``LiveEnvelope``).
    struct Welcome: Encodable {
        struct User: Encodable {
            var id: String
            var username: String
        }
        var type = "welcome"
        var campaign: String
        var user: User
        var role: String
        var heartbeatSeconds: Int
        var bufferLimit: Int
    }

    struct Presence: Encodable {
        struct Connected: Encodable {
            var userId: String
            var username: String
            var connections: Int
        }
        var type = "presence"
        var campaign: String
        var connected: [Connected]
    }

    /// `pong` (the answer to a ping) and `heartbeat`, with the newest sequence sent.
    struct Beat: Encodable {
        var type: String
        var lastSequence: Int64
    }

    struct ErrorMessage: Encodable {
        var type = "error"
        var code: Int
        var message: String
    }

    static func text(_ message: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The messages are plain structures of strings and numbers: encoding cannot fail.
        return (try? encoder.encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"type":"error","code":1011}"#
    }

    /// One client's socket, from authentication to its end.
    struct Connection: Sendable {
        let services: Services
        let authenticator: Authenticator
        let campaignId: String
        /// What the upgrade's `Authorization` header established, when it had one.
        let authentication: Authenticator.Outcome?
        let after: Int64?
        let channel: any Channel
        let outbound: WebSocketOutboundWriter
        let logger: Logger

        var configuration: ServerConfiguration { services.configuration }

        func send(_ text: String) async throws {
            try await outbound.write(.text(text))
        }

        func close(_ code: UInt16, _ reason: String) async {
            try? await send(LiveSocket.text(ErrorMessage(code: Int(code), message: reason)))
            try? await outbound.close(.unknown(code), reason: reason)
        }

        /// The largest message a client may send, in bytes.
        static let maxMessageBytes = 4096

        /// The client's next message, or nil once the socket ends. `messages(maxSize:)` bounds
        /// messages sent in fragments; one sent in a single frame (up to the 64 KiB frame limit)
        /// is bounded here: above 4 KiB the socket is closed with 1009.
        func next(_ messages: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> WebSocketMessage? {
            guard let message = try await messages.next() else { return nil }
            let size = switch message {
            case .text(let text): text.utf8.count
            case .binary(let buffer): buffer.readableBytes
            }
            guard size <= Self.maxMessageBytes else {
                try? await outbound.close(.messageTooLarge, reason: "messages are at most \(Self.maxMessageBytes) bytes")
                return nil
            }
            return message
        }

        func run(_ inbound: WebSocketInboundStream) async throws {
            var messages = inbound.messages(maxSize: Self.maxMessageBytes).makeAsyncIterator()
            var after = self.after
            var authentication = self.authentication
            if authentication == nil {
                // Wait for hello, at most 10 seconds: then the connection is cut.
                let channel = self.channel
                let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
                let first = try await next(&messages)
                timeout.cancel()
                guard case .text(let text) = first, let hello = try? JSONDecoder().decode(ClientMessage.self, from: Data(text.utf8)),
                      hello.type == "hello" else {
                    await close(CloseCode.unauthenticated, "authenticate first: send {\"type\":\"hello\",\"token\":\"…\"} or the Authorization header")
                    return
                }
                if let token = hello.token { authentication = try await authenticator.authenticate(token: token) }
                after = hello.after ?? after
            }
            guard case .principal(let principal) = authentication else {
                await close(CloseCode.unauthenticated, "the access token is missing, not valid, or its session has ended")
                return
            }
            guard let role = try await services.campaigns.role(of: principal.user.id, in: campaignId) else {
                await close(CloseCode.notFound, "there is no such campaign among yours")
                return
            }
            try await serve(principal: principal, role: role, after: after, messages: &messages)
        }

        func serve(principal: Principal, role: CampaignRole, after: Int64?, messages: inout WebSocketInboundMessageStream.AsyncIterator) async throws {
            let hub = services.live
            // Subscribe before reading the log, so that nothing stored meanwhile is missed; what
            // comes twice is dropped by its sequence.
            let subscription = hub.subscribe(campaignId: campaignId, limit: configuration.liveBufferLimit)
            defer { subscription.cancel() }
            let sent = Sent(after ?? 0)
            try await send(LiveSocket.text(Welcome(campaign: campaignId, user: .init(id: principal.user.id, username: principal.user.username),
                                                   role: role.rawValue, heartbeatSeconds: configuration.liveHeartbeatSeconds,
                                                   bufferLimit: configuration.liveBufferLimit)))
            hub.connect(campaignId: campaignId, userId: principal.user.id, username: principal.user.username)
            defer { hub.disconnect(campaignId: campaignId, userId: principal.user.id) }
            // Who is here now, for this socket (others hear of it only when someone arrives or leaves).
            try await send(Self.presence(hub.presence(campaignId: campaignId), campaignId: campaignId))
            ServerMetrics.liveConnections(delta: 1)
            defer { ServerMetrics.liveConnections(delta: -1) }
            // Without `after`, the client starts from now: only what happens from here on. An
            // `after` beyond the newest event (a client of an older database) starts from now too.
            let newest = try await newestSequence()
            if let after {
                sent.withLock { $0 = min(max(after, 0), newest) }
                try await catchUp(to: nil, sent: sent)
            } else {
                sent.withLock { $0 = newest }
            }
            logger.info("live socket open", metadata: ["user": "\(principal.user.id)", "from": "\(sent.withLock { $0 })"])
            let limiter = RateLimiter(.init(perMinute: configuration.liveMessagesPerMinute, burst: configuration.liveMessagesBurst))
            let channel = self.channel
            let userId = principal.user.id
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The campaign's messages, in order; a client that falls too far behind is cut off.
                group.addTask {
                    for await message in subscription.messages {
                        switch message {
                        case .event(let event, let envelope):
                            try await deliver(event, envelope: envelope, sent: sent)
                            // Removed from the campaign: nothing more of it reaches them.
                            if event.memberWhoLeft == userId {
                                await end(CloseCode.notFound, "you are no longer a member of this campaign")
                                return
                            }
                        case .presence(let entries):
                            try await send(Self.presence(entries, campaignId: campaignId))
                        }
                    }
                    if subscription.overflowed {
                        logger.warning("live socket closed: the client reads too slowly", metadata: ["user": "\(userId)"])
                        // The close frame waits behind what the client has not read: if the
                        // connection is not gone in a few seconds, it is cut.
                        channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
                        await close(CloseCode.slowConsumer,
                                    "the client fell more than \(configuration.liveBufferLimit) messages behind; reconnect with after=<last sequence>")
                    }
                }
                // Heartbeats; with each, the session and the membership are checked again, so a
                // logout, a revoked session, a deleted account or a removal ends the socket too.
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(configuration.liveHeartbeatSeconds))
                        guard try await authenticator.isSignedIn(principal) else {
                            await end(CloseCode.unauthenticated, "the session has ended; sign in again")
                            return
                        }
                        guard try await services.campaigns.role(of: userId, in: campaignId) != nil else {
                            await end(CloseCode.notFound, "you are no longer a member of this campaign")
                            return
                        }
                        try await send(LiveSocket.text(Beat(type: "heartbeat", lastSequence: sent.withLock { $0 })))
                    }
                }
                // The client's messages, here: pings, within the connection's rate.
                while let message = try await next(&messages) {
                    guard limiter.take("connection").allowed else {
                        await close(CloseCode.tooManyMessages, "too many messages from the client")
                        break
                    }
                    if case .text(let text) = message, let ping = try? JSONDecoder().decode(ClientMessage.self, from: Data(text.utf8)), ping.type == "ping" {
                        try await send(LiveSocket.text(Beat(type: "pong", lastSequence: sent.withLock { $0 })))
                    } else {
                        try await send(LiveSocket.text(ErrorMessage(code: Int(CloseCode.badMessage), message: "only {\"type\":\"ping\"} is understood after hello")))
                    }
                }
                group.cancelAll()
            }
            logger.info("live socket closed", metadata: ["user": "\(userId)"])
        }

        /// Closes the socket for a reason of the server's, cutting the connection if the client
        /// does not answer the close within a few seconds.
        func end(_ code: UInt16, _ reason: String) async {
            logger.info("live socket closed by the server", metadata: ["code": "\(code)", "reason": "\(reason)"])
            let channel = self.channel
            channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
            await close(code, reason)
        }

        func newestSequence() async throws -> Int64 {
            try await services.play.newestSequence(campaignId: campaignId)
        }

        /// Sends what the log holds after the last sequence sent, up to `limit` (all when nil).
        func catchUp(to limit: Int64?, sent: Sent) async throws {
            var cursor = sent.withLock { $0 }
            while true {
                let page = try await services.play.log(campaignId: campaignId, CampaignEventFilter(), after: cursor, limit: 500)
                for event in page.events {
                    if let limit, event.sequence > limit { return }
                    let entry = try API.logEntry(event, commitment: event.sessionId.flatMap { page.commitments[$0] })
                    try await send(try LiveEnvelope.render(entry, campaignId: event.campaignId))
                    cursor = event.sequence
                    sent.withLock { $0 = event.sequence }
                }
                if !page.more { return }
            }
        }

        /// Sends an event from the hub, first filling any gap from the log (events are published
        /// after their transactions, which may finish out of order).
        func deliver(_ event: CampaignEvent, envelope: String, sent: Sent) async throws {
            let last = sent.withLock { $0 }
            guard event.sequence > last else { return }
            if event.sequence > last + 1 { try await catchUp(to: event.sequence - 1, sent: sent) }
            try await send(envelope)
            sent.withLock { $0 = max($0, event.sequence) }
        }

        /// The newest sequence sent on this socket.
        final class Sent: Sendable {
            private let value: Mutex<Int64>
            init(_ value: Int64) { self.value = Mutex(value) }
            func withLock<T>(_ body: (inout Int64) -> T) -> T { value.withLock { body(&$0) } }
        }

        static func presence(_ entries: [PresenceEntry], campaignId: String) -> String {
            LiveSocket.text(Presence(campaign: campaignId, connected: entries.map {
                .init(userId: $0.userId, username: $0.username, connections: $0.connections)
            }))
        }
    }
}

/// Announces stored campaign events to the campaign's live sockets, each rendered once for all,
/// and, with several instances, rings the doorbell for the sockets of the others (``LiveRelay``).
struct LiveEventPublisher: CampaignEventPublisher {
    let hub: any LiveHub
    var doorbell: (any CampaignDoorbell)?
    let logger: Logger

    func publish(_ event: CampaignEvent, payload: LogPayload?, commitment: String?) {
        if let doorbell {
            let logger = logger
            Task {
                do {
                    try await doorbell.ring(campaignId: event.campaignId, sequence: event.sequence)
                } catch {
                    // The other instances' sockets read the entry from the log with the next one.
                    logger.warning("the campaign log's doorbell could not ring", metadata: [
                        "campaign": "\(event.campaignId)", "sequence": "\(event.sequence)", "error": "\(error)"])
                }
            }
        }
        // The event is stored before this runs, so a socket that subscribes after this count
        // finds it in the log when it catches up.
        guard hub.subscriberCount(campaignId: event.campaignId) > 0 else { return }
        do {
            let entry = try API.logEntry(event, payload: payload, commitment: commitment)
            hub.publish(.event(event, envelope: try LiveEnvelope.render(entry, campaignId: event.campaignId)), campaignId: event.campaignId)
        } catch {
            // The change is stored; the campaign's sockets read the entry from the log when the
            // next one arrives after the gap.
            logger.error("a campaign event could not be announced", metadata: [
                "campaign": "\(event.campaignId)", "sequence": "\(event.sequence)", "error": "\(error)"])
        }
    }
}

/// The JSON text of an event on a live socket: `{"type":"event","campaign","sequence","event":LogEntry}`,
/// rendered once for all the sockets of its campaign.
enum LiveEnvelope {
    struct Message: Encodable {
        var type = "event"
        var campaign: String
        var sequence: Int
        var event: Components.Schemas.LogEntry
    }

    static func render(_ entry: Components.Schemas.LogEntry, campaignId: String) throws -> String {
        // The entry's own keys as the contract spells them (its stats and names are keyed by ids,
        // which no key strategy may touch), and its time in RFC 3339, as HTTP answers give it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        let message = Message(campaign: campaignId, sequence: entry.sequence, event: entry)
        return String(decoding: try encoder.encode(message), as: UTF8.self)
    }
}

/// Hands the upgrade of `connectLive` to a ``LiveSocket/Connection``, after the router, the
/// address's rate limit and the bearer token (when the upgrade carries one) have had it like any
/// request, and after the contract has checked its parameters. The socket itself authenticates a
/// client that sends its token in a first `hello` instead, with the same ``Authenticator``, and
/// checks the membership. An upgrade of any other operation is refused.
struct LiveUpgradeMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let live: LiveSocket
    let contract: ContractMiddleware

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let protocols = request.headers[values: .upgrade].flatMap { $0.split(separator: ",") }
        guard protocols.contains(where: { $0.trimmingOWS.lowercased() == "websocket" }) else {
            return try await next(request, context)
        }
        guard let operation = context.operation, operation.id == "connectLive" else { throw Problem.validation("Upgrade", .fieldInvalid) }
        try contract.check(request, operation: operation, context: context, body: [])
        let info = RequestInfo.current
        let campaignId = context.parameters.get("campaignId").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let after = request.uri.queryParameters.get("after").flatMap { Int64($0) }
        // Given by header: what the authentication middleware found (a refused token is closed
        // with 4401 once the socket is open, as the protocol says). Without one: the hello.
        let authentication: Authenticator.Outcome? = request.headers[.authorization] == nil ? nil
            : info?.principal.map { .principal($0) } ?? .refused(info?.authenticationFailure ?? .tokenInvalid)
        var connectionLogger = info?.logger ?? context.logger
        connectionLogger[metadataKey: "campaign"] = "\(campaignId)"
        let logger = connectionLogger
        let channel = context.channel
        let services = live.services
        let authenticator = live.authenticator
        let upgrade = WebSocketUpgradeMiddleware<ServerContext> { inbound, outbound, _ in
            try await LiveSocket.Connection(services: services, authenticator: authenticator, campaignId: campaignId, authentication: authentication,
                                            after: after, channel: channel, outbound: outbound, logger: logger).run(inbound)
        }
        return try await upgrade.handle(request, context: context, next: next)
    }
}
