import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Media: images and recordings, typed by their bytes, stored once by content, served with
/// their ETag, conditional requests and byte ranges.
extension API {
    static func media(_ record: MediaRecord) -> Components.Schemas.Media {
        .init(id: record.id, _type: record.contentType, size: record.size, sha256: record.sha256, createdAt: record.createdAt,
              path: "/v1/media/\(record.id)")
    }

    func uploadMedia(_ input: Operations.UploadMedia.Input) async throws -> Operations.UploadMedia.Output {
        guard case .any(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let owner = try principal.user.id
        let bytes = try await [UInt8](collecting: body, upTo: configuration.maxMediaBytes)
        return .created(.init(body: .json(Self.media(try await services.media.upload(bytes, ownerId: owner, by: try caller)))))
    }

    func listMedia(_ input: Operations.ListMedia.Input) async throws -> Operations.ListMedia.Output {
        let listing = try await services.media.uploads(of: try principal.user.id, after: input.query.cursor, limit: Self.pageLimit(input.query.limit))
        return .ok(.init(body: .json(.init(items: listing.items.map(Self.media), next: listing.next, usedBytes: listing.usedBytes,
                                           quotaBytes: listing.quotaBytes))))
    }

    /// `bytes=a-b`, `bytes=a-` or `bytes=-n` of a file of `size` bytes: the offsets, nil when the
    /// header is not one such range (then the whole file is sent, as RFC 9110 allows), or
    /// `.unsatisfiable`. Any numbers, up to `Int.max` (larger ones are not a range), and any
    /// stored size: a range is always within `0...size - 1`, and nothing overflows.
    enum RangeRequest: Equatable {
        case whole
        case range(ClosedRange<Int>)
        case unsatisfiable
    }

    static func range(_ header: String?, size: Int) -> RangeRequest {
        guard let header, header.hasPrefix("bytes="), !header.contains(",") else { return .whole }
        let spec = header.dropFirst(6).trimmingOWS
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return parts[1].isEmpty ? .whole : .unsatisfiable }
            // An empty file (or a size below zero, from a damaged row) has no last bytes.
            guard size > 0 else { return .unsatisfiable }
            return .range((suffix >= size ? 0 : size - suffix)...(size - 1))
        }
        guard let start = Int(parts[0]) else { return .whole }
        // `0 <= start < size`, so `size - 1` below cannot overflow and the ranges are not empty.
        guard start >= 0, start < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .range(start...(size - 1)) }
        guard let end = Int(parts[1]), end >= start else { return .whole }
        return .range(start...min(end, size - 1))
    }

    func getMedia(_ input: Operations.GetMedia.Input) async throws -> Operations.GetMedia.Output {
        let record = try await services.media.media(id: input.path.mediaId)
        let etag = "\"\(record.sha256)\""
        ResponseOverrides.current?.set(.contentType, record.contentType)
        ResponseOverrides.current?.set(.cacheControl, "private, max-age=86400")
        if let match = input.headers.ifNoneMatch, match == "*" || match.split(separator: ",").contains(where: {
            let tag = $0.trimmingOWS
            return tag == etag || tag == "W/" + etag
        }) {
            return .notModified(.init(headers: .init(eTag: etag)))
        }
        switch Self.range(input.headers.range, size: record.size) {
        case .unsatisfiable:
            var problem = Problem(.rangeNotSatisfiable, "range-not-satisfiable", title: .titleRangeNotSatisfiable, detail: .rangeNotSatisfiable,
                                  ["size": String(record.size)])
            problem.headers[.contentRange] = "bytes */\(record.size)"
            throw problem
        case .range(let range):
            let bytes = try await services.media.bytes(of: record, range: range, by: try caller)
            // Written as is (the runtime would encode its spaces and slash).
            ResponseOverrides.current?.set(.contentRange, "bytes \(range.lowerBound)-\(range.upperBound)/\(record.size)")
            return .partialContent(.init(headers: .init(eTag: etag, contentRange: "bytes \(range.lowerBound)-\(range.upperBound)/\(record.size)"),
                                         body: .any(HTTPBody(bytes))))
        case .whole:
            let bytes = try await services.media.bytes(of: record, range: nil, by: try caller)
            return .ok(.init(headers: .init(eTag: etag, acceptRanges: "bytes"), body: .any(HTTPBody(bytes))))
        }
    }

    func getMediaLink(_ input: Operations.GetMediaLink.Input) async throws -> Operations.GetMediaLink.Output {
        let (url, expiresAt) = try await services.media.link(id: input.path.mediaId)
        return .ok(.init(body: .json(.init(url: url, expiresAt: expiresAt))))
    }

    func deleteMedia(_ input: Operations.DeleteMedia.Input) async throws -> Operations.DeleteMedia.Output {
        try await services.media.delete(id: input.path.mediaId, ownerId: try principal.user.id, by: try caller)
        return .noContent(.init())
    }
}
