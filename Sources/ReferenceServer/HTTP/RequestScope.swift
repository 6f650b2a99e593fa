import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// The request context: Hummingbird's, plus the connection and its peer address, and the
/// WebSocket handler an upgrade of the live socket sets.
package struct ServerContext: RequestContext, WebSocketRequestContext {
    package var coreContext: CoreRequestContextStorage
    package let webSocket = WebSocketHandlerReference<ServerContext>()
    let channel: any Channel
    package let peerAddress: String?
    /// The contract's operation for the route the router chose (``ScopeMiddleware``); nil
    /// for a request no route took. Every per-request decision is keyed by it.
    var operation: APIContract.Operation?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Bodies are limited by ``BodyLimitMiddleware`` with the configured size.
    package var maxUploadSize: Int { Int.max }
}

/// Who made an authenticated request.
package struct Principal: Sendable {
    package let user: UserRecord
    package let sessionId: String
}

/// What the middlewares learn about a request, for the handlers below them: bound as a task-local
/// value, since the OpenAPI handlers do not receive Hummingbird's context.
package struct RequestInfo: Sendable {
    package let id: String
    /// The client's address: the connection's, or the last untrusted hop of `X-Forwarded-For`
    /// when the connection comes from a trusted proxy.
    package let address: String
    package let language: Language
    /// The message catalogs problems are answered from.
    package let localizer: Localizer
    package let userAgent: String?
    package let path: String
    package let method: String
    /// The operationId of the route the router chose, when one did.
    package var operationId: String?
    package var principal: Principal?
    /// Why a presented access token was refused, when it was.
    package var authenticationFailure: MessageKey?
    package var logger: Logger

    @TaskLocal package static var current: RequestInfo?
}
