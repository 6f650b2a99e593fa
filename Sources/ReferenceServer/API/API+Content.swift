import Crypto
import Foundation
import OpenAPIRuntime

/// Content from the CMS, and search over it and the packs.
extension API {
    /// Checks the webhook's secret as configured; throws the problem that refuses it.
    func authenticateWebhook(signature: String?, body: [UInt8]) throws(Problem) {
        guard let secret = configuration.cmsWebhookSecret else { throw Problem(.serviceUnavailable, "unavailable", title: .titleUnavailable, detail: .cmsNotConfigured) }
        let presented: [UInt8]
        let expected: [UInt8]
        switch configuration.cmsWebhookAuth {
        case .token:
            let header = RawBody.current?.authorization ?? ""
            let parts = header.split(separator: " ", maxSplits: 1)
            presented = parts.count == 2 && parts[0].lowercased() == "bearer" ? Array(parts[1].utf8) : []
            expected = Array(secret.utf8)
        case .hmac:
            let text = signature?.trimmingCharacters(in: .whitespaces) ?? ""
            presented = text.lowercased().hasPrefix("sha256=") ? Array(text.dropFirst(7).lowercased().utf8) : []
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
            expected = Array(Hex.string(mac).utf8)
        }
        // Compared in constant time, whatever the length presented.
        let digest = { (bytes: [UInt8]) in Array(SHA256.hash(data: bytes)) }
        var difference: UInt8 = presented.isEmpty ? 1 : 0
        for (a, b) in zip(digest(presented), digest(expected)) { difference |= a ^ b }
        guard difference == 0 else {
            var problem = Problem.unauthenticated(.cmsSignatureInvalid)
            problem.headers[.wwwAuthenticate] = configuration.cmsWebhookAuth == .token ? "Bearer" : nil
            throw problem
        }
    }

    static let cmsEvents: Set = ["entry.create", "entry.update", "entry.delete", "entry.publish", "entry.unpublish"]

    func cmsWebhook(_ input: Operations.CmsWebhook.Input) async throws -> Operations.CmsWebhook.Output {
        let body = RawBody.current?.bytes ?? []
        do {
            try authenticateWebhook(signature: input.headers.xWebhookSignature, body: body)
        } catch {
            // Refusals are audited where there is a secret to guess (not when the hook is off).
            if configuration.cmsWebhookSecret != nil { try await audit("cms.event_refused", actor: nil, ["reason": "authentication"]) }
            throw error
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let event = object["event"] as? String else {
            throw Problem.unprocessable("/", .cmsEventInvalid, ["reason": "the body is not an event object"])
        }
        guard Self.cmsEvents.contains(event), let model = object["model"] as? String, ContentEntry.kind(model: model) != nil else {
            return .ok(.init(body: .json(.init(status: .ignored))))
        }
        guard let entryObject = object["entry"] as? [String: Any] else {
            throw Problem.unprocessable("/entry", .cmsEventInvalid, ["reason": "an entry event needs its entry"])
        }
        var entry: ContentEntry
        do {
            entry = try ContentEntry.from(model: model, entry: entryObject)
        } catch {
            throw Problem.unprocessable(error.field, .cmsEventInvalid, ["reason": error.reason])
        }
        let change: ContentChange
        switch event {
        case "entry.delete": change = .delete(kind: entry.kind, cmsId: entry.cmsId, revisedAt: entry.revisedAt)
        case "entry.publish": entry.published = true; change = .upsert(entry)
        case "entry.unpublish": entry.published = false; change = .upsert(entry)
        default: change = .upsert(entry)
        }
        // With signatures, the id is the signed body's hash: a header the signature does not
        // cover could replay a signed event under a new id.
        let bodyHash = Hex.sha256(body)
        let eventId = configuration.cmsWebhookAuth == .hmac ? bodyHash : (input.headers.xWebhookId ?? bodyHash)
        let outcome = try await storage.content.apply(change, eventId: eventId, event: event, at: Date())
        switch outcome {
        case .applied: try await audit("cms.event", actor: nil, target: entry.id, ["event": event, "event_id": String(eventId.prefix(128))])
        case .stale: try await audit("cms.event_stale", actor: nil, target: entry.id, ["event": event, "event_id": String(eventId.prefix(128))])
        case .duplicate: break
        }
        let status: Components.Schemas.CMSEventResult.StatusPayload = switch outcome {
        case .applied: .applied
        case .duplicate: .duplicate
        case .stale: .stale
        }
        return .ok(.init(body: .json(.init(status: status, entry: entry.id))))
    }

    func search(_ input: Operations.Search.Input) async throws -> Operations.Search.Output {
        let query = input.query
        guard SQLiteContentStore.matchExpression(query.q) != nil else { throw Problem.validation("q", .searchQueryEmpty) }
        var offset = 0
        if let cursor = query.cursor {
            guard let value = Int(cursor), (0...10_000).contains(value) else { throw Problem.validation("cursor", .cursorInvalid) }
            offset = value
        }
        let limit = Self.pageLimit(query.limit, default: 20)
        let tags = (query.tags ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let result = try await storage.content.search(SearchQuery(text: query.q, language: query.lang?.lowercased(), kind: query.kind?.rawValue,
                                                                  tags: tags, limit: limit, offset: offset))
        let items = result.hits.map { hit in
            Components.Schemas.SearchHit(id: hit.id, kind: hit.kind, language: hit.language, titleHtml: hit.titleHTML, snippetHtml: hit.snippetHTML,
                                         tags: hit.tags, score: hit.score)
        }
        return .ok(.init(body: .json(.init(items: items, next: result.more && offset + limit <= 10_000 ? String(offset + limit) : nil))))
    }

    func getContent(_ input: Operations.GetContent.Input) async throws -> Operations.GetContent.Output {
        let designer = AccessPolicy.permissions(of: try principal.user.roles).contains(.packsPublish)
        guard let entry = try await storage.content.entry(id: input.path.entryId), entry.published || designer else {
            throw Problem.notFound(.contentNotFound)
        }
        return .ok(.init(body: .json(.init(
            id: entry.id, kind: .init(rawValue: entry.kind.rawValue) ?? .vocabulary, cmsId: entry.cmsId, language: entry.language,
            titles: .init(additionalProperties: entry.titles), bodies: .init(additionalProperties: entry.bodies),
            examples: entry.examples.map { .init(language: $0.language, text: $0.text) }, tags: entry.tags, audio: entry.audio,
            published: entry.published))))
    }
}
