import ContentPacks
import Foundation
import HTTPTypes
import Hummingbird
import Mechanics
import NIOCore
import NIOHTTP1
import OpenAPIRuntime

/// An error answered as RFC 9457 problem details (`application/problem+json`), localized: a
/// type, a title and a detail, and for invalid input every field at fault.
package struct Problem: Error, Sendable {
    package var status: HTTPResponse.Status
    /// The last part of the type URI `urn:roll-for-language:problem:SLUG`.
    package var slug: String
    package var title: MessageKey
    package var detail: MessageKey?
    package var arguments: [String: String]
    package var errors: [FieldError]
    /// Extra response headers (`Retry-After`, `RateLimit-*`, `WWW-Authenticate`).
    package var headers: HTTPFields
    /// For a pack that does not validate: every diagnostic with its line and column.
    package var diagnostics: [PackDiagnostic] = []

    /// A diagnostic of `rfl validate`: where (`path`, `line`, `column`), how bad, and why.
    package struct PackDiagnostic: Sendable, Equatable {
        package var path: String
        package var line: Int
        package var column: Int
        package var severity: String
        package var code: String
        package var message: String
    }

    package struct FieldError: Sendable, Equatable {
        /// A JSON pointer into the body (`/password`) or a parameter's name (`limit`).
        package var field: String
        package var message: MessageKey
        package var arguments: [String: String]
        package init(_ field: String, _ message: MessageKey, _ arguments: [String: String] = [:]) {
            self.field = field
            self.message = message
            self.arguments = arguments
        }
    }

    package init(_ status: HTTPResponse.Status, _ slug: String, title: MessageKey, detail: MessageKey? = nil, _ arguments: [String: String] = [:],
                errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.arguments = arguments
        self.errors = errors
        self.headers = headers
    }

    package static let typePrefix = "urn:roll-for-language:problem:"

    /// The problem as JSON in `language`: the contract's `Problem`.
    package func json(_ localizer: Localizer, _ language: Language, instance: String?, requestId: String?) -> String {
        let body = Components.Schemas.Problem(
            _type: Self.typePrefix + slug, title: localizer.text(title, language, arguments), status: Int(status.code),
            detail: detail.map { localizer.text($0, language, arguments) }, instance: instance, requestId: requestId,
            errors: errors.isEmpty ? nil : errors.map { .init(field: $0.field, message: localizer.text($0.message, language, $0.arguments)) },
            diagnostics: diagnostics.isEmpty ? nil : diagnostics.map {
                .init(path: $0.path, line: $0.line, column: $0.column, severity: $0.severity == "error" ? .error : .warning, code: $0.code,
                      message: $0.message)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        // Strings and whole numbers only: encoding cannot fail; were it to, the bare problem.
        return (try? encoder.encode(body)).map { String(decoding: $0, as: UTF8.self) }
            ?? #"{"type":"\#(Self.typePrefix)internal","title":"Internal error","status":500}"#
    }

    // The problems the server answers, in one place.

    static func validation(_ errors: [FieldError]) -> Problem {
        Problem(.badRequest, "validation", title: .titleValidation, detail: .validationFailed, errors: errors)
    }
    static func validation(_ field: String, _ message: MessageKey, _ arguments: [String: String] = [:]) -> Problem {
        validation([FieldError(field, message, arguments)])
    }
    /// Well-formed input the rules refuse (a weak password, a wrong current password): 422.
    static func unprocessable(_ field: String, _ message: MessageKey, _ arguments: [String: String] = [:]) -> Problem {
        Problem(.unprocessableContent, "unprocessable", title: .titleUnprocessable, detail: message, arguments,
                errors: [FieldError(field, message, arguments)])
    }
    static func malformed(_ reason: String) -> Problem {
        Problem(.badRequest, "malformed", title: .titleMalformed, detail: .bodyNotJSON, ["reason": reason])
    }
    static func unauthenticated(_ detail: MessageKey) -> Problem {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = detail == .tokenMissing ? "Bearer" : "Bearer error=\"invalid_token\""
        return Problem(.unauthorized, "unauthenticated", title: .titleUnauthenticated, detail: detail, headers: headers)
    }
    static func forbidden(_ detail: MessageKey, _ arguments: [String: String] = [:]) -> Problem {
        Problem(.forbidden, "forbidden", title: .titleForbidden, detail: detail, arguments)
    }
    static func notFound(_ detail: MessageKey, _ arguments: [String: String] = [:]) -> Problem {
        Problem(.notFound, "not-found", title: .titleNotFound, detail: detail, arguments)
    }
    static func conflict(_ detail: MessageKey, field: String? = nil, _ arguments: [String: String] = [:]) -> Problem {
        Problem(.conflict, "conflict", title: .titleConflict, detail: detail, arguments, errors: field.map { [FieldError($0, detail, arguments)] } ?? [])
    }
    /// The resource changed since the client read it (If-Match does not match): 412.
    static func preconditionFailed(etag: String) -> Problem {
        var headers = HTTPFields()
        headers[.eTag] = etag
        return Problem(.preconditionFailed, "precondition-failed", title: .titlePreconditionFailed, detail: .versionMismatch, ["etag": etag],
                       headers: headers)
    }
    /// A plain request for a WebSocket route: 426.
    static func upgradeRequired() -> Problem {
        var headers = HTTPFields()
        headers[.upgrade] = "websocket"
        return Problem(.init(code: 426, reasonPhrase: "Upgrade Required"), "upgrade-required", title: .titleUpgradeRequired, detail: .upgradeRequired,
                       headers: headers)
    }
    /// A change sent without If-Match: 428.
    static func preconditionRequired() -> Problem {
        Problem(HTTPResponse.Status(code: 428, reasonPhrase: "Precondition Required"), "precondition-required", title: .titlePreconditionRequired,
                detail: .ifMatchRequired, errors: [FieldError("If-Match", .ifMatchRequired)])
    }
    static func tooLarge(max: Int) -> Problem {
        Problem(.contentTooLarge, "too-large", title: .titleTooLarge, detail: .bodyTooLarge, ["max": String(max)])
    }
    static func unsupportedMediaType(_ expected: String = "application/json") -> Problem {
        Problem(.unsupportedMediaType, "unsupported-media-type", title: .titleUnsupportedMediaType,
                detail: expected == "application/xml" ? .mediaTypeXML : .mediaTypeJSON)
    }
    static func rateLimited(_ detail: MessageKey, retryAfter seconds: Int, headers: HTTPFields = [:]) -> Problem {
        var all = headers
        all[.retryAfter] = String(seconds)
        return Problem(.tooManyRequests, "rate-limited", title: .titleRateLimited, detail: detail, ["seconds": String(seconds)], headers: all)
    }
    static func `internal`(requestId: String) -> Problem {
        Problem(.internalServerError, "internal", title: .titleInternal, detail: .internalError, ["request_id": requestId])
    }
    static func unavailable() -> Problem {
        Problem(.serviceUnavailable, "unavailable", title: .titleUnavailable, detail: .databaseUnavailable)
    }
}

extension Problem: HTTPResponseError {
    /// The problem as an answer in the request's language (``RequestInfo``), for Hummingbird.
    package func response(from request: Request, context: some RequestContext) throws -> Response {
        let info = RequestInfo.current
        return response(language: info?.language ?? .fallback, localizer: info?.localizer ?? Localizer(catalogs: [:]),
                        instance: info?.path ?? request.uri.path, requestId: info?.id)
    }

    /// `application/problem+json`, with the problem's own headers.
    func response(language: Language, localizer: Localizer, instance: String?, requestId: String?) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = json(localizer, language, instance: instance, requestId: requestId)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension Problem {
    /// The problem any error stands for: ours as they are, and what the services refuse as
    /// ``refusal(_:)`` answers it; the OpenAPI runtime's as the runtime
    /// classifies them (a request it could not read is the client's, 400, naming the field when
    /// decoding says which; whatever failed after the handler began is ours, 500); a body whose
    /// framing broke, 400; Hummingbird's as their status; anything else 500, whose details go to
    /// the log only.
    init(_ error: any Error, requestId: String) {
        if let refusal = Self.refusal(error) {
            self = refusal
            return
        }
        switch error {
        case let problem as Problem:
            self = problem
        case let server as ServerError:
            if let problem = server.underlyingError as? Problem {
                self = problem
            } else if let refusal = Self.refusal(server.underlyingError) {
                self = refusal
            } else if let decoding = server.underlyingError as? DecodingError {
                self = Self.decodingProblem(decoding)
            } else if server.httpStatus.kind == .clientError {
                self = .validation("/", .fieldInvalid)
            } else {
                self = .internal(requestId: requestId)
            }
        case is HTTPParserError:
            // The body's framing broke (a bad chunk, a connection that ended early): the
            // request cannot be read (RFC 9112); RequestGuardHandler closes the connection.
            self = Problem(.badRequest, "malformed-request", title: .titleValidation, detail: .fieldInvalid)
        case let http as HTTPError where http.status == .contentTooLarge:
            self = Problem(.contentTooLarge, "too-large", title: .titleTooLarge)
        case let http as HTTPError where http.status.kind == .clientError:
            self = Problem(http.status, "http-\(http.status.code)", title: .titleValidation, detail: .fieldInvalid)
        default:
            self = .internal(requestId: requestId)
        }
    }

    /// What a service refuses, as its answer; nil for any other error.
    static func refusal(_ error: any Error) -> Problem? {
        switch error {
        case let game as GameError: Problem(game)
        case let account as AccountError: Problem(account)
        case let pack as PackServiceError: Problem(pack)
        case let content as ContentError: Problem(content)
        case let media as MediaServiceError: Problem(media)
        default: nil
        }
    }

    /// What the accounts refuse, as their answer.
    init(_ error: AccountError) {
        switch error {
        case .passwordRefused(let field, let refusal): self = .password(refusal, field: field)
        case .currentPasswordWrong: self = .unprocessable("/current_password", .passwordWrong)
        case .usernameTaken: self = .conflict(.usernameTaken, field: "/username")
        case .credentialsInvalid: self = .unauthenticated(.credentialsInvalid)
        case .loginBackoff(let seconds): self = .rateLimited(.loginBackoff, retryAfter: seconds)
        case .refreshInvalid: self = .unauthenticated(.refreshInvalid)
        case .refreshReused: self = .unauthenticated(.refreshReused)
        case .sessionNotFound: self = .notFound(.sessionNotFound)
        case .userNotFound: self = .notFound(.userNotFound)
        case .lastAdmin(let field): self = .conflict(.lastAdmin, field: field)
        }
    }

    /// What the pack service refuses, as its answer.
    init(_ error: PackServiceError) {
        switch error {
        case .invalid(let diagnostics):
            self = Problem(.unprocessableContent, "pack-invalid", title: .titleUnprocessable, detail: .packInvalid)
            self.diagnostics = diagnostics.map { diagnostic in
                PackDiagnostic(path: diagnostic.path, line: diagnostic.line, column: diagnostic.column, severity: diagnostic.severity.rawValue,
                               code: diagnostic.code, message: diagnostic.message)
            }
        case .versionExists(let pack, let version): self = .conflict(.packVersionExists, field: "/", ["pack": pack, "version": version])
        case .notFound(let pack, let version): self = .notFound(.packNotFound, ["pack": pack, "version": version])
        }
    }

    /// What the content service refuses, as its answer.
    init(_ error: ContentError) {
        switch error {
        case .webhookOff:
            self = Problem(.serviceUnavailable, "unavailable", title: .titleUnavailable, detail: .cmsNotConfigured)
        case .webhookUnauthenticated(let bearer):
            self = .unauthenticated(.cmsSignatureInvalid)
            headers[.wwwAuthenticate] = bearer ? "Bearer" : nil
        case .eventInvalid(let field, let reason): self = .unprocessable(field, .cmsEventInvalid, ["reason": reason])
        case .queryEmpty: self = .validation("q", .searchQueryEmpty)
        case .cursorInvalid: self = .validation("cursor", .cursorInvalid)
        case .notFound: self = .notFound(.contentNotFound)
        }
    }

    /// What the media service refuses, as its answer.
    init(_ error: MediaServiceError) {
        switch error {
        case .typeUnknown:
            self = Problem(.unsupportedMediaType, "unsupported-media-type", title: .titleUnsupportedMediaType, detail: .mediaTypeUnknown)
        case .tooLarge(let max): self = .tooLarge(max: max)
        case .quotaExceeded(let quota):
            self = Problem(.contentTooLarge, "too-large", title: .titleTooLarge, detail: .mediaQuotaExceeded, ["quota": String(quota)])
        case .notFound: self = .notFound(.mediaNotFound)
        case .noLinks: self = .conflict(.mediaNoLinks)
        case .storeUnavailable: self = Problem(.serviceUnavailable, "unavailable", title: .titleUnavailable, detail: .mediaStoreUnavailable)
        case .cursorInvalid: self = .validation("cursor", .cursorInvalid)
        }
    }

    /// A password the policy refuses, at `field`: 422.
    static func password(_ refusal: PasswordPolicy.Refusal, field: String) -> Problem {
        switch refusal {
        case .tooShort(let minimum): .unprocessable(field, .passwordTooShort, ["min": String(minimum)])
        case .tooLong(let maximum): .unprocessable(field, .passwordTooLong, ["max": String(maximum)])
        case .common: .unprocessable(field, .passwordCommon)
        case .repetitive: .unprocessable(field, .passwordRepetitive)
        case .containsUsername: .unprocessable(field, .passwordContainsUsername)
        case .containsServiceName: .unprocessable(field, .passwordContainsServiceName)
        }
    }

    /// What the game refuses, as its answer.
    init(_ error: GameError) {
        switch error {
        case .campaignNotFound: self = .notFound(.campaignNotFound)
        case .campaignArchived: self = .conflict(.campaignArchived)
        case .characterNotFound: self = .notFound(.characterNotFound)
        case .playSessionNotFound: self = .notFound(.playSessionNotFound)
        case .playSessionEnded: self = .conflict(.playSessionEnded)
        case .sessionAlreadyOpen: self = .conflict(.sessionAlreadyOpen)
        case .noOpenSession: self = .conflict(.noOpenSession)
        case .invitationInvalid: self = .notFound(.invitationInvalid)
        case .memberNotFound: self = .notFound(.memberNotFound)
        case .lastGameMaster: self = .conflict(.lastGameMaster)
        case .gameMasterOnly: self = .forbidden(.gameMasterOnly)
        case .characterNotYours: self = .forbidden(.characterNotYours)
        case .versionMismatch(let current): self = .preconditionFailed(etag: API.etag(current))
        case .sourceNotApplied(let source): self = .notFound(.rulesRefuse, ["reason": "'\(source)' is not applied to this character"])
        case .idempotencyKeyReused: self = .unprocessable("Idempotency-Key", .idempotencyKeyReused)
        case .rulesRefuse(let field, let reason): self = .unprocessable(field, .rulesRefuse, ["reason": reason])
        case .packsUnresolved(let field, let reason): self = .unprocessable(field, .packsUnresolved, ["reason": reason])
        case .fieldRequired(let field): self = .unprocessable(field, .fieldRequired)
        case .fieldInvalid(let field): self = .unprocessable(field, .fieldInvalid)
        case .dcOrAgainst: self = .unprocessable("/dc", .dcOrAgainst)
        }
    }

    /// A JSON body that does not decode into the operation's type, naming the field.
    static func decodingProblem(_ error: DecodingError) -> Problem {
        func pointer(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "/" : "/" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .validation(pointer(context.codingPath + [key]), .fieldRequired)
        case .typeMismatch(let type, let context):
            return .validation(pointer(context.codingPath), .fieldType, ["type": "\(type)".lowercased()])
        case .valueNotFound(_, let context):
            return .validation(pointer(context.codingPath), .fieldRequired)
        case .dataCorrupted(let context):
            return .validation(pointer(context.codingPath), .fieldInvalid)
        @unknown default:
            return .validation("/", .fieldInvalid)
        }
    }
}

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let rateLimitLimit = HTTPField.Name("RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("RateLimit-Reset")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
