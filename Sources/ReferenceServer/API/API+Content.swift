import Foundation
import OpenAPIRuntime

/// Content from the CMS, and search over it and the packs.
extension API {
    func cmsWebhook(_ input: Operations.CmsWebhook.Input) async throws -> Operations.CmsWebhook.Output {
        // The body as its bytes came (a signature covers them, not their decoding), and the
        // Authorization header, which authentication leaves to the webhook's own secret.
        let raw = RawBody.current
        let delivery = ContentService.Delivery(body: raw?.bytes ?? [], authorization: raw?.authorization,
                                               signature: input.headers.xWebhookSignature, id: input.headers.xWebhookId)
        switch try await services.content.receive(delivery, by: try caller) {
        case .ignored:
            return .ok(.init(body: .json(.init(status: .ignored))))
        case .handled(let outcome, let entryId):
            let status: Components.Schemas.CMSEventResult.StatusPayload = switch outcome {
            case .applied: .applied
            case .duplicate: .duplicate
            case .stale: .stale
            }
            return .ok(.init(body: .json(.init(status: status, entry: entryId))))
        }
    }

    func search(_ input: Operations.Search.Input) async throws -> Operations.Search.Output {
        let query = input.query
        let results = try await services.content.search(query.q, language: query.lang, kind: query.kind?.rawValue,
                                                        tags: (query.tags ?? "").split(separator: ",").map(String.init),
                                                        limit: Self.pageLimit(query.limit, default: 20), cursor: query.cursor)
        let items = results.hits.map { hit in
            Components.Schemas.SearchHit(id: hit.id, kind: hit.kind, language: hit.language, titleHtml: hit.titleHTML, snippetHtml: hit.snippetHTML,
                                         tags: hit.tags, score: hit.score)
        }
        return .ok(.init(body: .json(.init(items: items, next: results.next))))
    }

    func getContent(_ input: Operations.GetContent.Input) async throws -> Operations.GetContent.Output {
        let entry = try await services.content.entry(id: input.path.entryId, readerRoles: try principal.user.roles)
        return .ok(.init(body: .json(.init(
            id: entry.id, kind: .init(rawValue: entry.kind.rawValue) ?? .vocabulary, cmsId: entry.cmsId, language: entry.language,
            titles: .init(additionalProperties: entry.titles), bodies: .init(additionalProperties: entry.bodies),
            examples: entry.examples.map { .init(language: $0.language, text: $0.text) }, tags: entry.tags, audio: entry.audio,
            published: entry.published))))
    }
}
