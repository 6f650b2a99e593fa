import Foundation
import NIOPosix

/// Who asks a service for something, as the audit log records it: the user, the client's
/// address and the request's id. Services take it as an argument; they read nothing of HTTP.
struct Caller: Sendable {
    var userId: String?
    var address: String?
    var requestId: String?

    /// The same caller as no one in particular: for what is recorded before anyone is known
    /// (a login, a refresh, a CMS event), whatever token came with the request.
    var anonymous: Caller { Caller(userId: nil, address: address, requestId: requestId) }

    /// The same caller, acting as `userId` (a new account registering itself).
    func acting(as userId: String) -> Caller { Caller(userId: userId, address: address, requestId: requestId) }
}

/// What the game refuses, in its own terms. The HTTP layer answers each as a problem
/// (``Problem/init(_:requestId:)``); services never speak of statuses.
enum GameError: Error, Equatable, Sendable {
    case campaignNotFound
    case campaignArchived
    case characterNotFound
    case playSessionNotFound
    case playSessionEnded
    case sessionAlreadyOpen
    case noOpenSession
    case invitationInvalid
    case memberNotFound
    /// Removing the campaign's last game master.
    case lastGameMaster
    /// Only the campaign's game master may do it.
    case gameMasterOnly
    /// Only the character's player or the campaign's game master may change it.
    case characterNotYours
    /// The character changed since the version the change names.
    case versionMismatch(current: Int)
    /// The source is not applied to the character.
    case sourceNotApplied(source: String)
    /// An idempotency key that came before with another request.
    case idempotencyKeyReused
    /// The rules refuse what was asked (an expression, a stat, a check), at `field`.
    case rulesRefuse(field: String, reason: String)
    /// The campaign's packs do not resolve to a ruleset.
    case packsUnresolved(field: String, reason: String)
    /// What was asked needs this field too (a character to read stats from).
    case fieldRequired(String)
    /// This field does not go with the rest of what was asked.
    case fieldInvalid(String)
    /// A check needs a difficulty or an opponent, not both.
    case dcOrAgainst
}

/// Runs work that holds a thread for long (the engine's odds, loading packs, files of media) on
/// NIO's thread pool, off the event loops that serve every connection, as password hashing is.
func offTheEventLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(work)
}

/// Where services announce the campaign events they stored: the live sockets of the campaign.
protocol CampaignEventPublisher: Sendable {
    /// The event as stored, with its payload read (nil: to be read from the event) and its play
    /// session's commitment when it has one. It cannot fail the change, which is already stored:
    /// a socket that misses it reads it from the log.
    func publish(_ event: CampaignEvent, payload: LogPayload?, commitment: String?)
}

extension CampaignEventPublisher {
    func publish(_ event: CampaignEvent, commitment: String?) {
        publish(event, payload: nil, commitment: commitment)
    }
}

/// The audit log as services write it: an action, by a caller, on a target.
struct AuditTrail: Sendable {
    let store: any AuditStore

    func record(_ action: String, by caller: Caller, target: String? = nil, _ details: [String: String] = [:]) async throws {
        try await store.append(NewAuditEvent(action: action, actor: caller.userId, target: target, address: caller.address,
                                             requestId: caller.requestId, details: details))
    }
}

/// One page of a list: at most the size asked for, and whether more follow.
struct Page<Item: Sendable>: Sendable {
    var items: [Item]
    var more: Bool

    /// Reads a page of `limit` items (at least one) with `read`, which is asked for one row more
    /// than the page, to learn whether more follow (never for more than `Int.max` rows).
    static func read(limit: Int, _ read: (Int) async throws -> [Item]) async rethrows -> Page {
        let size = max(limit, 1)
        let (rows, overflow) = size.addingReportingOverflow(1)
        let found = try await read(overflow ? size : rows)
        return Page(items: Array(found.prefix(size)), more: found.count > size)
    }
}

/// A failure of the server's own (not of the request): answered 500, its description logged.
struct ServiceFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A secret for a client to present (a refresh token, an invitation code): 32 random bytes,
/// base64url, after a prefix that says what it is.
func randomToken(prefix: String) -> String {
    var generator = SystemRandomNumberGenerator()
    return prefix + Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
}
