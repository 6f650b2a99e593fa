import Foundation
import HTTPTypes
import Hummingbird

/// Who a bearer token stands for: a valid token of an active session makes a principal, with the
/// user's current roles (read afresh, so a role change or a revoked session counts at once). The
/// one place that decides it, for HTTP requests and for the live socket's `hello` alike.
struct Authenticator: Sendable {
    let tokens: TokenService
    let sessions: any SessionStore

    enum Outcome: Sendable {
        case principal(Principal)
        /// Why the token was refused.
        case refused(MessageKey)
    }

    /// An `Authorization` header's value: `Bearer <token>`.
    func authenticate(authorization header: String) async throws -> Outcome {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .refused(.tokenInvalid) }
        return try await authenticate(token: String(parts[1]))
    }

    func authenticate(token: String) async throws -> Outcome {
        let claims: AccessClaims
        do {
            claims = try await tokens.verify(token.trimmingOWS)
        } catch {
            return .refused(.tokenInvalid)
        }
        guard let (session, user) = try await sessions.activeSession(id: claims.sid, userId: claims.sub.value, at: Date()) else {
            return .refused(.sessionEnded)
        }
        return .principal(Principal(user: user, sessionId: session.id))
    }

    /// Whether the principal's session is still active (not ended, revoked or expired, its
    /// account not deleted): what a long-lived connection asks again from time to time.
    func isSignedIn(_ principal: Principal, at date: Date = Date()) async throws -> Bool {
        try await sessions.activeSession(id: principal.sessionId, userId: principal.user.id, at: date) != nil
    }
}

/// Reads `Authorization: Bearer …` into the request's principal, and applies its account's rate
/// limit. An invalid token is remembered, and refused by the operations that need a user
/// (``AccessMiddleware``).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let authenticator: Authenticator
    let accountLimiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard var info = RequestInfo.current, let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        switch try await authenticator.authenticate(authorization: header) {
        case .principal(let principal):
            info.principal = principal
        case .refused(let reason):
            info.logger.debug("access token refused", metadata: ["reason": "\(reason)"])
            info.authenticationFailure = reason
        }
        if let principal = info.principal {
            let decision = accountLimiter.take("user " + principal.user.id)
            let headers = RateLimitHeaders.fields(decision)
            guard decision.allowed else { throw Problem.rateLimited(.rateLimited, retryAfter: decision.retryAfter, headers: headers) }
            var response = try await RequestInfo.$current.withValue(info) { try await next(request, context) }
            for field in headers { response.headers[field.name] = field.value }
            return response
        }
        return try await RequestInfo.$current.withValue(info) { try await next(request, context) }
    }
}
