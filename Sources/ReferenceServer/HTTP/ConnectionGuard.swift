import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// What HTTP/1.1 asks of a server for requests that cannot be read, which Hummingbird's
/// upgradable channel leaves unanswered: a head that does not parse is answered (400, or 431 for
/// one too large) and its connection closed; a body whose framing breaks (a bad chunk, a
/// connection that ends before `Content-Length`) ends its connection after the answer the
/// router gives it (400); a transfer coding other than `chunked` is answered 501; and a client
/// has `headTimeout` to send a head, from connecting or from the end of the previous answer, and
/// `bodyTimeout` to send the body that follows, so a slow or silent client cannot hold a
/// connection.
///
/// Sits right after NIO's request decoder, so it sees the decoded parts and the decoder's
/// errors before anything else does. Requests may be pipelined: an answer of its own waits for
/// the answers to the requests before it, and a request counts as answered only when its own
/// answer has ended. A body that ends early always reaches its reader as an error (the router's
/// body iterator would take a plain end of the stream for the end of the body). It closes by
/// shutting its output once its answer is out and dropping what still comes in for a moment, so
/// the client reads the answer rather than a reset. A sound WebSocket handshake, the first
/// request of its connection and without a body, leaves the HTTP pipeline: this handler removes
/// itself before NIO's upgrader takes the connection over (or refuses it and closes it).
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// How long a closing connection's input is read and dropped after its output is shut.
    static let drainTime = TimeAmount.seconds(1)

    private let headTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?
    /// Request heads passed on, and answers that have ended.
    private var received = 0
    private var answered = 0
    /// The newest request's head was passed on and its end has not come.
    private var bodyOpen = false
    /// An answer's head went out and its end has not.
    private var responseOpen = false
    /// An answer of this handler's own, waiting for the answers to the requests before it.
    private var refusal: (status: HTTPResponseStatus, headers: HTTPHeaders)?
    /// Close once every request passed on is answered (a broken body; a request after which the
    /// decoder stops parsing).
    private var closeWhenAnswered = false
    /// Input is no longer passed on; the connection is closing.
    private var closing = false

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount, logger: Logger) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.logger = logger
    }

    /// Every request passed on has had its answer.
    private var idle: Bool { answered >= received && !responseOpen }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headTimeout, body: false) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headTimeout, body: false)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closing, the client may go before the drain ends: the end of the input first, so that
        // those after this handler end quietly, as after the drain.
        if closing { announceEnd(context) }
        closing = true
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    /// Whether the end of the input was passed on.
    private var endAnnounced = false

    /// Passes the end of the input on, once: the upgrade negotiation and the request loop after
    /// this handler end quietly on it.
    private func announceEnd(_ context: ChannelHandlerContext) {
        guard !endAnnounced else { return }
        endAnnounced = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, refusal == nil else { return }
        switch unwrapInboundIn(data) {
        case .head(var head):
            timer?.cancel()
            timer = nil
            let upgrade = head.headers[canonicalForm: "upgrade"].map { $0.lowercased() }
            if upgrade.contains("websocket") {
                // RFC 6455 §4.2.1: a handshake is a GET without a body; NIO's upgrader takes only
                // the first request of a connection, and drops a handshake it cannot take
                // without a word. A sound one is the upgrader's from here on.
                if let refused = Self.handshakeRefusal(head, first: received == 0) {
                    refuse(context, refused.status, headers: refused.headers)
                    return
                }
                received += 1
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            let codings = head.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased() }
            if codings.contains(where: { $0 != "chunked" }) {
                // A coding the server does not know (RFC 9112 §6.1): its body cannot be read.
                refuse(context, .notImplemented)
                return
            }
            // After another upgrade or a CONNECT, NIO's decoder stops parsing: the request is
            // answered, and the connection ends there.
            let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
            if head.method == .CONNECT || (!upgrade.isEmpty && connection.contains("upgrade")) { closeWhenAnswered = true }
            received += 1
            bodyOpen = true
            arm(context, bodyTimeout, body: true)
            if !upgrade.isEmpty {
                // An upgrade to anything else (`h2c`, as curl asks for on http://) is declined by
                // serving the request as it is (RFC 9110 §7.8); NIO's upgrade handler would drop it.
                head.headers.remove(name: "upgrade")
                context.fireChannelRead(wrapInboundOut(.head(head)))
                return
            }
            context.fireChannelRead(data)
        case .body:
            context.fireChannelRead(data)
        case .end:
            timer?.cancel()
            timer = nil
            bodyOpen = false
            context.fireChannelRead(data)
            // Answered before its body ended (a 401, a 413): the connection is idle from here.
            if idle, !closing {
                if closeWhenAnswered { close(context, after: nil) } else { arm(context, headTimeout, body: false) }
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Closing: whatever is still written (an answer to a body that was cut off) goes out or
        // fails on the shut output; it changes nothing here.
        guard !closing else {
            context.write(data, promise: promise)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head:
            responseOpen = true
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responseOpen = false
            answered += 1
            guard idle else {
                context.write(data, promise: promise)
                return
            }
            if let refusal {
                // Every request before the refused one has its answer: now the refusal.
                context.write(data, promise: promise)
                answer(context, refusal.status, headers: refusal.headers)
            } else if closeWhenAnswered, !bodyOpen {
                let written = promise ?? context.eventLoop.makePromise()
                context.writeAndFlush(data, promise: written)
                close(context, after: written.futureResult)
            } else {
                context.write(data, promise: promise)
                // The next request's head is due within the head timeout.
                if !bodyOpen, !closing { arm(context, headTimeout, body: false) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !closing, refusal == nil else { return }
        if bodyOpen {
            // A body's framing broke while the router has its request: the error reaches the
            // body's reader, whose answer (400) ends the connection; already answered, it ends now.
            logger.debug("request body framing error", metadata: ["error": "\(parseError)"])
            bodyOpen = false
            closeWhenAnswered = true
            context.fireErrorCaught(error)
            if idle { close(context, after: nil) }
            return
        }
        // A head that does not parse: nobody else has it, so it is answered here.
        logger.debug("request head does not parse", metadata: ["error": "\(parseError)"])
        refuse(context, parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest)
    }

    /// What is wrong with a WebSocket handshake, as the answer to give: not the connection's
    /// first request, not a GET, a body, no `Connection: upgrade`, a `Sec-WebSocket-Key` that is
    /// not 16 bytes in base64 (400), or a version other than 13 (426, naming the version the
    /// server speaks).
    static func handshakeRefusal(_ head: HTTPRequestHead, first: Bool) -> (status: HTTPResponseStatus, headers: HTTPHeaders)? {
        let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        let keys = head.headers[canonicalForm: "sec-websocket-key"]
        let key = keys.first.map(\.trimmingOWS) ?? ""
        let length = head.headers[canonicalForm: "content-length"]
        guard first, head.method == .GET, connection.contains("upgrade"), keys.count == 1, key.utf8.count == 24,
              Data(base64Encoded: key)?.count == 16, !head.headers.contains(name: "transfer-encoding"), length.allSatisfy({ $0 == "0" })
        else {
            return (.badRequest, [:])
        }
        guard head.headers[canonicalForm: "sec-websocket-version"] == ["13"] else {
            return (.upgradeRequired, ["Sec-WebSocket-Version": "13"])
        }
        return nil
    }

    /// Refuses a request: nothing more is read, and the answer goes out once the requests before
    /// it have theirs.
    private func refuse(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers: HTTPHeaders = [:]) {
        timer?.cancel()
        timer = nil
        refusal = (status, headers)
        if idle { answer(context, status, headers: headers) }
    }

    /// Writes an answer of this handler's own and closes after it.
    private func answer(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers extra: HTTPHeaders = [:]) {
        var headers = extra
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        close(context, after: written.futureResult)
    }

    /// Starts the head or body deadline, replacing any other.
    private func arm(_ context: ChannelHandlerContext, _ delay: TimeAmount, body: Bool) {
        timer?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.timedOut(context, body: body)
        }
    }

    private func timedOut(_ context: ChannelHandlerContext, body: Bool) {
        timer = nil
        guard !closing, refusal == nil else { return }
        if body, answered + 1 == received, !responseOpen {
            // The body did not come in time, and its request is the only one unanswered: 408
            // now (its reader, waiting for the body, sees it end in error).
            logger.debug("request body timed out")
            refusal = (.requestTimeout, [:])
            answer(context, .requestTimeout)
        } else {
            // A head that never came (an idle connection, a slow one), or a body that did not
            // while other answers are due: nothing can be answered in order.
            close(context, after: nil)
        }
    }

    /// Closes the connection: after `written`, its output is shut, and what still comes in is
    /// dropped for ``drainTime`` before the connection ends (a close with unread input would
    /// reset it, and the client could lose the answer).
    private func close(_ context: ChannelHandlerContext, after written: EventLoopFuture<Void>?) {
        guard !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        if bodyOpen {
            // Whoever reads this body must see it end in error, never as complete.
            bodyOpen = false
            context.fireErrorCaught(HTTPParserError.invalidEOFState)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let shut: @Sendable (Result<Void, any Error>) -> Void = { _ in
            let context = loopBound.value
            context.close(mode: .output, promise: nil)
            context.eventLoop.scheduleTask(in: Self.drainTime) {
                let context = loopBound.value
                guard context.channel.isActive else { return }
                (context.handler as? RequestGuardHandler)?.announceEnd(context)
                context.close(promise: nil)
            }
        }
        if let written {
            written.whenComplete(shut)
        } else {
            shut(.success(()))
        }
    }
}

/// The server's channel: Hummingbird's HTTP/1.1 channel with the WebSocket upgrade, and a
/// ``RequestGuardHandler`` right after the request decoder.
struct GuardedHTTPChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner
    let headTimeout: TimeAmount
    let bodyTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(
                RequestGuardHandler(headTimeout: headTimeout, bodyTimeout: bodyTimeout, logger: logger), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the WebSocket upgrade, guarded by ``RequestGuardHandler``. Upgrade requests
    /// go through `webSocketRouter` (the server's own router), which decides them as it decides
    /// every request.
    static func guardedHTTP1WebSocketUpgrade<Router: HTTPResponderBuilder>(
        webSocketRouter: Router, configuration: HTTP1WebSocketUpgradeChannel.Configuration, headTimeout: TimeAmount, bodyTimeout: TimeAmount
    ) -> HTTPServerBuilder where Router.Responder.Context: WebSocketRequestContext, Router.Responder: Sendable {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            GuardedHTTPChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                               headTimeout: headTimeout, bodyTimeout: bodyTimeout)
        }
    }
}
