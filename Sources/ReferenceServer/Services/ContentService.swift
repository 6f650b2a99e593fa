import Crypto
import Foundation

/// What the content service refuses, in its own terms. The HTTP layer answers each as a problem
/// (``Problem/init(_:requestId:)``).
enum ContentError: Error, Equatable, Sendable {
    /// No secret is configured for the CMS webhook: it is off.
    case webhookOff
    /// The event's credentials are missing or wrong; `bearer` when a bearer token was expected
    /// (rather than a signature).
    case webhookUnauthenticated(bearer: Bool)
    /// The event is not one the server can read, at `field`.
    case eventInvalid(field: String, reason: String)
    /// A search without a word to look for.
    case queryEmpty
    /// A search cursor the service did not give.
    case cursorInvalid
    /// No such entry, or a draft asked for by someone who may not read drafts.
    case notFound
}

/// Content from the CMS and search over it and the packs. Events come from the CMS's webhook,
/// authenticated by the shared secret (a bearer token, or an HMAC-SHA256 signature of the body),
/// applied once each, and never over a newer version of their entry; refusals and changes go to
/// the audit log. Drafts are read by content designers only. Times come from `now`.
struct ContentService: Sendable {
    /// How the CMS proves its events are its own.
    struct Webhook: Sendable {
        /// The shared secret; nil turns the webhook off.
        var secret: String?
        var authentication: ServerConfiguration.CMSWebhookAuth
    }

    /// An event as the webhook received it.
    struct Delivery: Sendable {
        /// The body, as its bytes were signed.
        var body: [UInt8]
        /// The `Authorization` header, which carries the secret as a bearer token.
        var authorization: String?
        /// The `X-Webhook-Signature` header: `sha256=` and the body's HMAC in hex.
        var signature: String?
        /// The CMS's id of the delivery, where it gives one.
        var id: String?
    }

    /// What became of an event.
    enum Received: Sendable, Equatable {
        /// Not an event of the entries the server stores.
        case ignored
        case handled(ContentOutcome, entryId: String)
    }

    let store: any ContentStore
    let webhook: Webhook
    let audit: AuditTrail
    let now: @Sendable () -> Date

    static let events: Set = ["entry.create", "entry.update", "entry.delete", "entry.publish", "entry.unpublish"]
    /// The deepest a search reaches into its results.
    static let maxOffset = 10_000

    // MARK: - Webhook

    /// Authenticates an event of the CMS and applies it to the stored entries (once: a
    /// delivery seen before changes nothing). Events of other models are ignored.
    func receive(_ delivery: Delivery, by caller: Caller) async throws -> Received {
        let caller = caller.anonymous
        try await authenticate(delivery, by: caller)
        guard let object = try? JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any], let event = object["event"] as? String else {
            throw ContentError.eventInvalid(field: "/", reason: "the body is not an event object")
        }
        guard Self.events.contains(event), let model = object["model"] as? String, ContentEntry.kind(model: model) != nil else { return .ignored }
        guard let entryObject = object["entry"] as? [String: Any] else {
            throw ContentError.eventInvalid(field: "/entry", reason: "an entry event needs its entry")
        }
        var entry: ContentEntry
        do {
            entry = try ContentEntry.from(model: model, entry: entryObject)
        } catch {
            throw ContentError.eventInvalid(field: error.field, reason: error.reason)
        }
        let change: ContentChange
        switch event {
        case "entry.delete": change = .delete(kind: entry.kind, cmsId: entry.cmsId, revisedAt: entry.revisedAt)
        case "entry.publish": entry.published = true; change = .upsert(entry)
        case "entry.unpublish": entry.published = false; change = .upsert(entry)
        default: change = .upsert(entry)
        }
        // With signatures, the id is the signed body's hash: a delivery id the signature does
        // not cover could replay a signed event under a new id.
        let bodyHash = Hex.sha256(delivery.body)
        let eventId = webhook.authentication == .hmac ? bodyHash : (delivery.id ?? bodyHash)
        let outcome = try await store.apply(change, eventId: eventId, event: event, at: now())
        switch outcome {
        case .applied: try await audit.record("cms.event", by: caller, target: entry.id, ["event": event, "event_id": String(eventId.prefix(128))])
        case .stale: try await audit.record("cms.event_stale", by: caller, target: entry.id, ["event": event, "event_id": String(eventId.prefix(128))])
        case .duplicate: break
        }
        return .handled(outcome, entryId: entry.id)
    }

    /// Checks the delivery's secret as configured. Refusals are audited where there is a secret
    /// to guess (not when the webhook is off).
    private func authenticate(_ delivery: Delivery, by caller: Caller) async throws {
        guard let secret = webhook.secret else { throw ContentError.webhookOff }
        let presented: [UInt8]
        let expected: [UInt8]
        switch webhook.authentication {
        case .token:
            let parts = (delivery.authorization ?? "").split(separator: " ", maxSplits: 1)
            presented = parts.count == 2 && parts[0].lowercased() == "bearer" ? Array(parts[1].utf8) : []
            expected = Array(secret.utf8)
        case .hmac:
            let text = delivery.signature?.trimmingOWS ?? ""
            presented = text.lowercased().hasPrefix("sha256=") ? Array(text.dropFirst(7).lowercased().utf8) : []
            let mac = HMAC<SHA256>.authenticationCode(for: delivery.body, using: SymmetricKey(data: Array(secret.utf8)))
            expected = Array(Hex.string(mac).utf8)
        }
        // Compared in constant time, whatever the length presented.
        let digest = { (bytes: [UInt8]) in Array(SHA256.hash(data: bytes)) }
        var difference: UInt8 = presented.isEmpty ? 1 : 0
        for (a, b) in zip(digest(presented), digest(expected)) { difference |= a ^ b }
        guard difference == 0 else {
            try await audit.record("cms.event_refused", by: caller, ["reason": "authentication"])
            throw ContentError.webhookUnauthenticated(bearer: webhook.authentication == .token)
        }
    }

    // MARK: - Search and entries

    /// A page of search results and the cursor of the next, if more follow.
    struct Results: Sendable, Equatable {
        var hits: [SearchHit]
        var next: String?
    }

    /// Published entries and the packs' texts matching the words of `text`, best first, `limit`
    /// (at least one) at a time, from `cursor` (an offset, at most ``maxOffset``).
    func search(_ text: String, language: String?, kind: String?, tags: [String], limit: Int, cursor: String?) async throws -> Results {
        guard !SearchQuery.words(text).isEmpty else { throw ContentError.queryEmpty }
        var offset = 0
        if let cursor {
            guard let value = Int(cursor), (0...Self.maxOffset).contains(value) else { throw ContentError.cursorInvalid }
            offset = value
        }
        let limit = max(limit, 1)
        let tags = tags.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let result = try await store.search(SearchQuery(text: text, language: language?.lowercased(), kind: kind, tags: tags, limit: limit, offset: offset))
        let (next, overflow) = offset.addingReportingOverflow(limit)
        return Results(hits: result.hits, next: result.more && !overflow && next <= Self.maxOffset ? String(next) : nil)
    }

    /// An entry; a draft only for those who may publish packs (content designers, admins).
    func entry(id: String, readerRoles: [Role]) async throws -> ContentEntry {
        let designer = AccessPolicy.permissions(of: readerRoles).contains(.packsPublish)
        guard let entry = try await store.entry(id: id), entry.published || designer else { throw ContentError.notFound }
        return entry
    }
}
