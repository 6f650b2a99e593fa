import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import OpenAPIRuntime
import Synchronization

/// The outermost layer: gives each request its id, operation, client address and language,
/// binds them for everything below, turns every error into a localized problem answer, and adds
/// the headers every answer carries (`X-Request-Id`, `Content-Language`, security headers).
///
/// The operation is the one of the route the router chose. The router decides the route once
/// (its trie drops empty segments, so `/v1/media/` and `//v1//media` take the route `/v1/media`,
/// and refuses what matches no route: `/v1/./media`, `/V1/media`, `%2F` in a literal segment);
/// from here on every decision — rate-limit class, body limit, authentication, permission,
/// contract, metrics — reads that operation, and none matches the path's text again.
struct ScopeMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let localizer: Localizer
    let trustedProxies: [AddressRange]
    let contract: APIContract

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let fromProxy = context.peerAddress.map { peer in trustedProxies.contains { $0.contains(peer) } } ?? false
        let id = fromProxy ? (request.headers[.requestId].flatMap(Self.validRequestId) ?? context.id) : context.id
        let address = clientAddress(request, peer: context.peerAddress)
        let language = Language.negotiate(request.headers[.acceptLanguage])
        var logger = context.logger
        logger[metadataKey: "request_id"] = "\(id)"
        var info = RequestInfo(id: id, address: address, language: language, localizer: localizer, userAgent: request.headers[.userAgent].map { String($0.prefix(256)) },
                               path: request.uri.path, method: request.method.rawValue, operationId: nil, principal: nil, authenticationFailure: nil, logger: logger)
        var context = context
        var response: Response
        do {
            // A request no route took has no operation: the router answers 404 (or 405) after the
            // middlewares. A route the contract does not name is refused.
            if let route = context.endpointPath {
                guard let operation = contract.operation(method: request.method.rawValue, route: route) else {
                    throw Problem.notFound(.routeNotFound, ["path": request.uri.path])
                }
                context.operation = operation
                info.operationId = operation.id
            }
            response = try await RequestInfo.$current.withValue(info) { try await next(request, context) }
        } catch {
            response = problemResponse(for: error, info: info, logger: logger)
        }
        response.headers[.requestId] = id
        response.headers[.contentLanguage] = language.rawValue
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if info.operationId == "getLab" || info.operationId == "getLabAsset" {
            // The dice lab: its own script and style sheet, and the API, from this origin only.
            response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        }
        if response.headers[.contentSecurityPolicy] == nil {
            // Nothing is loaded or run; the documentation page has only its own inline styles.
            let styles = response.headers[.contentType]?.hasPrefix("text/html") == true ? "; style-src 'unsafe-inline'" : ""
            response.headers[.contentSecurityPolicy] = "default-src 'none'\(styles); frame-ancestors 'none'"
        }
        return response
    }

    /// The client: the peer, unless the peer is a trusted proxy, in which case the right-most
    /// address of `X-Forwarded-For` that is not itself a trusted proxy.
    func clientAddress(_ request: Request, peer: String?) -> String {
        Self.clientAddress(forwardedFor: request.headers[values: .forwardedFor], peer: peer, trustedProxies: trustedProxies)
    }

    static func clientAddress(forwardedFor values: [String], peer: String?, trustedProxies: [AddressRange]) -> String {
        guard let peer else { return "unknown" }
        guard trustedProxies.contains(where: { $0.contains(peer) }), !values.isEmpty else { return peer }
        let hops = values.joined(separator: ",").split(separator: ",").map(\.trimmingOWS)
        for hop in hops.reversed() {
            guard AddressRange.bytes(of: hop) != nil else { return peer }
            if !trustedProxies.contains(where: { $0.contains(hop) }) { return hop }
        }
        return hops.first ?? peer
    }

    static func validRequestId(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
              value.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        return value
    }

    func problemResponse(for error: any Error, info: RequestInfo, logger: Logger) -> Response {
        let problem = problem(for: error, info: info)
        if problem.status == .internalServerError {
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "path": "\(info.path)"])
        }
        return problem.response(language: info.language, localizer: localizer, instance: info.path, requestId: info.id)
    }

    /// The problem an error stands for (``Problem/init(_:requestId:)``); a request no route took
    /// is 405 with `Allow` when its path is a route's, under the router's reading of paths.
    func problem(for error: any Error, info: RequestInfo) -> Problem {
        if let http = error as? HTTPError, http.status == .notFound {
            let methods = contract.methods(at: info.path)
            if !methods.isEmpty {
                var headers = HTTPFields()
                headers[.allow] = methods.joined(separator: ", ")
                return Problem(.methodNotAllowed, "method-not-allowed", title: .titleMethodNotAllowed, detail: .methodNotAllowed,
                               ["path": info.path, "method": info.method], headers: headers)
            }
            return .notFound(.routeNotFound, ["path": info.path])
        }
        return Problem(error, requestId: info.id)
    }
}

/// Rate limits per client address: all routes share one bucket per address, and the operations
/// of the authentication class (``OperationPolicy``) have a stricter one of their own.
struct AddressRateLimitMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let general: RateLimiter
    let authentication: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let address = RequestInfo.current?.address ?? "unknown"
        var decisions = [general.take(address)]
        if let operation = context.operation, OperationPolicy.rateLimitClass(operation.id) == .authentication {
            decisions.append(authentication.take("auth " + address))
        }
        let binding = decisions.first { !$0.allowed } ?? decisions.min { $0.remaining < $1.remaining }!
        let headers = RateLimitHeaders.fields(binding)
        guard binding.allowed else { throw Problem.rateLimited(.rateLimited, retryAfter: binding.retryAfter, headers: headers) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch var problem as Problem {
            // Refusals count against the limit too, and say so.
            if problem.headers[.rateLimitRemaining] == nil { problem.headers.append(contentsOf: headers) }
            throw problem
        }
        // An account's own limit, applied further in, may be the tighter one: report the tighter.
        if let inner = response.headers[.rateLimitRemaining].flatMap(Int.init), inner <= binding.remaining { return response }
        for field in headers { response.headers[field.name] = field.value }
        return response
    }
}

enum RateLimitHeaders {
    static func fields(_ decision: RateLimiter.Decision) -> HTTPFields {
        var fields = HTTPFields()
        fields[.rateLimitLimit] = String(decision.limit)
        fields[.rateLimitRemaining] = String(decision.remaining)
        fields[.rateLimitReset] = String(decision.reset)
        return fields
    }
}

/// Refuses bodies above the operation's size limit while they stream in (413), without holding
/// more than that in memory, then hands the collected body on. A request no route took has no
/// body worth reading: it is refused before its body is read.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let limits: OperationPolicy.BodyLimits

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let operation = context.operation else { return try await next(request, context) }
        let maxBytes = limits.maxBytes(OperationPolicy.bodyClass(operation.id))
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBytes { throw Problem.tooLarge(max: maxBytes) }
        var request = request
        var collected = ByteBuffer()
        for try await chunk in request.body {
            guard collected.readableBytes + chunk.readableBytes <= maxBytes else { throw Problem.tooLarge(max: maxBytes) }
            var chunk = chunk
            collected.writeBuffer(&chunk)
        }
        request.body = .init(buffer: collected)
        return try await next(request, context)
    }
}

/// Checks every request against its operation in the OpenAPI document (parameters, headers and
/// body), with the path parameters the router took. Runs after authentication and the
/// permission check, so an anonymous caller of a protected operation is answered 401, not a
/// schema error.
struct ContractMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let contract: APIContract

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let operation = context.operation else { return try await next(request, context) }
        var request = request
        let buffer = try await request.body.collect(upTo: .max)
        request.body = .init(buffer: buffer)
        try check(request, operation: operation, context: context, body: Array(buffer: buffer))
        return try await next(request, context)
    }

    /// The query's parameters, decoded as the OpenAPI runtime decodes them for the handler
    /// (`+` is a space, then percent-decoding), so that what is checked is what the handler gets;
    /// a malformed percent-encoding, which the runtime would read as empty, is refused.
    static func query(_ raw: String?) throws(Problem) -> [String: [String]] {
        var query: [String: [String]] = [:]
        for pair in (raw ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decoded = parts.map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = decoded[0], let value = decoded.count > 1 ? decoded[1] : "" else {
                throw Problem.validation(decoded[0] ?? String(parts[0].prefix(64)), .fieldInvalid)
            }
            query[name, default: []].append(value)
        }
        return query
    }

    /// Throws the problem of a request its operation refuses.
    func check(_ request: Request, operation: APIContract.Operation, context: Context, body: [UInt8]) throws {
        var pathParameters: [String: String] = [:]
        for (name, value) in context.parameters {
            guard let decoded = value.removingPercentEncoding else { throw Problem.validation(String(name), .fieldInvalid) }
            pathParameters[String(name)] = decoded
        }
        let query = try Self.query(request.uri.query)
        var headers: [String: String] = [:]
        for parameter in operation.parameters where parameter.location == "header" {
            if let name = HTTPField.Name(parameter.name), let value = request.headers[name] { headers[parameter.name.lowercased()] = value }
        }
        let errors = try contract.validate(operation, pathParameters: pathParameters, query: query, headers: headers,
                                           contentType: request.headers[.contentType], body: body)
        guard errors.isEmpty else { throw Problem.validation(errors) }
    }
}

/// An empty request body is no body: operations whose body is optional (an invitation's
/// settings, a session's client seed) then see none, rather than JSON that fails to decode.
/// Bodies reach this point already read and bounded by ``BodyLimitMiddleware``.
struct EmptyBodyMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        let bytes = try await [UInt8](collecting: body, upTo: .max)
        // The webhook's signature covers the body exactly as sent.
        if operationID == "cmsWebhook" {
            return try await RawBody.$current.withValue(RawBody(bytes: bytes, authorization: request.headerFields[.authorization])) {
                try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
            }
        }
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}

/// A request's body exactly as received, and its Authorization header, for the handler that
/// checks a shared secret or a signature over the body (the CMS webhook).
struct RawBody: Sendable {
    let bytes: [UInt8]
    let authorization: String?
    @TaskLocal static var current: RawBody?
}

/// Entity tags go out as RFC 9110 writes them (`"v3"`): the OpenAPI runtime encodes header
/// values as URI components, which would turn the quotes into `%22`.
struct EntityTagMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, metadata)
        if let tag = response.headerFields[.eTag], tag.contains("%"), let decoded = tag.removingPercentEncoding {
            response.headerFields[.eTag] = decoded
        }
        return (response, responseBody)
    }
}

/// Headers a handler decides that the OpenAPI runtime would write otherwise: a file's real
/// Content-Type (the contract says `*/*`), and its caching.
final class ResponseOverrides: Sendable {
    private let fields = Mutex<[(HTTPField.Name, String)]>([])
    func set(_ name: HTTPField.Name, _ value: String) { fields.withLock { $0.append((name, value)) } }
    var all: [(HTTPField.Name, String)] { fields.withLock { $0 } }
    @TaskLocal static var current: ResponseOverrides?
}

struct ResponseOverridesMiddleware: ServerMiddleware {
    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        let overrides = ResponseOverrides()
        var (response, responseBody) = try await ResponseOverrides.$current.withValue(overrides) { try await next(request, body, metadata) }
        for (name, value) in overrides.all { response.headerFields[name] = value }
        return (response, responseBody)
    }
}
