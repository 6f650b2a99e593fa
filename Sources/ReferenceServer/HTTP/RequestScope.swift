import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The request context: Hummingbird's, plus the connection and its peer address, and the
/// WebSocket handler an upgrade of the live socket sets.
public struct ServerContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket = WebSocketHandlerReference<ServerContext>()
    let channel: any Channel
    public let peerAddress: String?
    /// The contract's operation for the route the router chose (``ScopeMiddleware``); nil
    /// for a request no route took. Every per-request decision is keyed by it.
    var operation: APIContract.Operation?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are limited by ``BodyLimitMiddleware`` with the configured size.
    public var maxUploadSize: Int { Int.max }
}

/// Who made an authenticated request.
public struct Principal: Sendable {
    public let user: UserRecord
    public let sessionId: String
}

/// What the middlewares learn about a request, for the handlers below them: bound as a task-local
/// value, since the OpenAPI handlers do not receive Hummingbird's context.
public struct RequestInfo: Sendable {
    public let id: String
    /// The client's address: the connection's, or the last untrusted hop of `X-Forwarded-For`
    /// when the connection comes from a trusted proxy.
    public let address: String
    public let language: Language
    /// The message catalogs problems are answered from.
    public let localizer: Localizer
    public let userAgent: String?
    public let path: String
    public let method: String
    /// The operationId of the route the router chose, when one did.
    public var operationId: String?
    public var principal: Principal?
    /// Why a presented access token was refused, when it was.
    public var authenticationFailure: MessageKey?
    public var logger: Logger

    @TaskLocal public static var current: RequestInfo?
}
