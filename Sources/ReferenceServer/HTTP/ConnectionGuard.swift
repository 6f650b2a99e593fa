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
/// errors before anything else does. A request that asks to upgrade to a WebSocket leaves the
/// HTTP pipeline, and this handler removes itself from it.
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headTimeout: TimeAmount
    private let bodyTimeout: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?
    /// A head arrived and its end has not.
    private var requestOpen = false
    /// An answer's head went out and its end has not.
    private var responseOpen = false
    /// An answer was written in full for the request that is open.
    private var answeredOpenRequest = false
    /// The request's framing broke: close once its answer is out.
    private var closeAfterResponse = false
    private var closed = false

    init(headTimeout: TimeAmount, bodyTimeout: TimeAmount, logger: Logger) {
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.logger = logger
    }

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
        closed = true
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            timer?.cancel()
            timer = nil
            if head.headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) {
                // A WebSocket handshake the upgrader would refuse without a word is answered
                // here (RFC 6455 §4.2.1, §4.4); a sound one is the upgrader's, which takes the
                // connection over (or refuses it with 400 and closes it).
                if let refusal = Self.handshakeRefusal(head) {
                    answerAndClose(context, refusal.status, headers: refusal.headers)
                    return
                }
                context.fireChannelRead(data)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                return
            }
            let codings = head.headers[canonicalForm: "transfer-encoding"].map { $0.lowercased() }
            if codings.contains(where: { $0 != "chunked" }) {
                // A coding the server does not know (RFC 9112 §6.1): its body cannot be read.
                answerAndClose(context, .notImplemented)
                return
            }
            requestOpen = true
            answeredOpenRequest = false
            arm(context, bodyTimeout, body: true)
            context.fireChannelRead(data)
        case .body:
            context.fireChannelRead(data)
        case .end:
            timer?.cancel()
            timer = nil
            requestOpen = false
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head:
            responseOpen = true
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            responseOpen = false
            if requestOpen { answeredOpenRequest = true }
            if closeAfterResponse {
                context.writeAndFlush(data, promise: promise)
                close(context)
                return
            }
            context.write(data, promise: promise)
            // The next request's head is due within the head timeout.
            if !requestOpen, !closed { arm(context, headTimeout, body: false) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if requestOpen {
            // The body's framing broke while the router has the request: it answers 400 (the
            // error reaches it through the body), then the connection closes; if the answer is
            // already out, it closes now.
            logger.debug("request body framing error", metadata: ["error": "\(parseError)"])
            if answeredOpenRequest {
                close(context)
            } else {
                closeAfterResponse = true
                context.fireErrorCaught(error)
            }
            return
        }
        // The head does not parse: nobody else has the request, so answer it here and close.
        logger.debug("request head does not parse", metadata: ["error": "\(parseError)"])
        answerAndClose(context, parseError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest)
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
        guard !closed else { return }
        if body, !responseOpen, !answeredOpenRequest {
            logger.debug("request body timed out")
            answerAndClose(context, .requestTimeout)
        } else {
            // A head that never came (or an idle connection): nothing to answer.
            close(context)
        }
    }

    /// What is wrong with a WebSocket handshake, as the answer to give: not a GET, no
    /// `Connection: upgrade`, a `Sec-WebSocket-Key` that is not 16 bytes in base64 (400), or a
    /// version other than 13 (426, naming the version the server speaks).
    static func handshakeRefusal(_ head: HTTPRequestHead) -> (status: HTTPResponseStatus, headers: HTTPHeaders)? {
        let connection = head.headers[canonicalForm: "connection"].map { $0.lowercased() }
        let keys = head.headers[canonicalForm: "sec-websocket-key"]
        let key = keys.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard head.method == .GET, connection.contains("upgrade"), keys.count == 1, key.utf8.count == 24,
              Data(base64Encoded: key)?.count == 16 else {
            return (.badRequest, [:])
        }
        guard head.headers[canonicalForm: "sec-websocket-version"] == ["13"] else {
            return (.upgradeRequired, ["Sec-WebSocket-Version": "13"])
        }
        return nil
    }

    private func answerAndClose(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, headers extra: HTTPHeaders = [:]) {
        guard !closed else { return }
        timer?.cancel()
        timer = nil
        if !responseOpen {
            var headers = extra
            headers.add(name: "Connection", value: "close")
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        close(context)
    }

    private func close(_ context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        timer?.cancel()
        timer = nil
        if !requestOpen {
            // Between requests, the end of the input is the end of the connection for those
            // after this handler (the upgrade negotiation, the request loop), which then end
            // quietly. Never while a body is being read: its reader must see the decoder's error,
            // not an end that would pass for the body's.
            context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
        context.close(promise: nil)
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
