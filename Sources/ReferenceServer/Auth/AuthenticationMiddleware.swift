import Foundation
import HTTPTypes
import Hummingbird

/// Reads `Authorization: Bearer …`: a valid token of an active session makes the request's
/// principal (with the user's current roles, read afresh, so a role change or a revoked session
/// counts at once), and its account's rate limit applies. An invalid token is remembered, and
/// refused by the routes that need a user.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let tokens: TokenService
    let storage: Storage
    let accountLimiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard var info = RequestInfo.current, let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            info.authenticationFailure = .tokenInvalid
            return try await RequestInfo.$current.withValue(info) { try await next(request, context) }
        }
        do {
            let claims = try await tokens.verify(String(parts[1]).trimmingCharacters(in: .whitespaces))
            if let (session, user) = try await storage.sessions.activeSession(id: claims.sid, userId: claims.sub.value, at: Date()) {
                info.principal = Principal(user: user, sessionId: session.id)
            } else {
                info.authenticationFailure = .sessionEnded
            }
        } catch let rejection as TokenRejection {
            info.logger.debug("access token refused", metadata: ["reason": "\(rejection)"])
            info.authenticationFailure = .tokenInvalid
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
