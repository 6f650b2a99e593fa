import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime

/// Media: images and recordings, typed by their bytes, stored once by content, served with
/// their ETag, conditional requests and byte ranges.
extension API {
    static func media(_ record: MediaRecord) -> Components.Schemas.Media {
        .init(id: record.id, _type: record.contentType, size: record.size, sha256: record.sha256, createdAt: record.createdAt,
              path: "/v1/media/\(record.id)")
    }

    /// The media store, whose failures (an S3 store that does not answer, or refuses) are
    /// logged in full and answered 503 without their details.
    func blobs() -> MediaStoreCalls { MediaStoreCalls(store: services.blobs, logger: (try? info.logger) ?? Logger(label: "rfl-server")) }

    func uploadMedia(_ input: Operations.UploadMedia.Input) async throws -> Operations.UploadMedia.Output {
        guard case .any(let body) = input.body else { throw Problem.unsupportedMediaType() }
        let principal = try principal
        let bytes = try await [UInt8](collecting: body, upTo: configuration.maxMediaBytes)
        guard let type = MediaType.detect(bytes) else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: .titleUnsupportedMediaType, detail: .mediaTypeUnknown)
        }
        let sha256 = Hex.sha256(bytes)
        // A random id of the server's making: nothing about the file or its uploader shows in it.
        let record = MediaRecord(id: "m_" + Base64URL.encode((0..<18).map { _ in UInt8.random(in: 0...255) }), ownerId: principal.user.id,
                                 sha256: sha256, size: bytes.count, contentType: type, createdAt: Date())
        let overQuota = Problem(.contentTooLarge, "too-large", title: .titleTooLarge, detail: .mediaQuotaExceeded,
                                ["quota": String(configuration.mediaQuotaBytes)])
        let (total, overflow) = try await storage.media.usedBytes(ownerId: principal.user.id).addingReportingOverflow(bytes.count)
        guard !overflow, total <= configuration.mediaQuotaBytes else { throw overQuota }
        // The bytes first, then the record: a record never names missing bytes. Under the
        // content's lock, so that a deletion of its last record cannot remove the bytes between.
        try await services.mediaLocks.withLock(sha256) {
            try await blobs().put(bytes, key: sha256, contentType: type)
            do {
                try await storage.media.create(record, quota: configuration.mediaQuotaBytes)
            } catch StoreError.conflict {
                // Over the quota after all (another upload of the same user came first).
                if try await !storage.media.isUsed(sha256: sha256) { await blobs().forget(key: sha256) }
                throw overQuota
            }
        }
        try await audit("media.uploaded", target: record.id, ["type": type, "size": String(bytes.count), "sha256": sha256])
        return .created(.init(body: .json(Self.media(record))))
    }

    func listMedia(_ input: Operations.ListMedia.Input) async throws -> Operations.ListMedia.Output {
        let owner = try principal.user.id
        let limit = Self.pageLimit(input.query.limit)
        // The cursor is the time and id of the last upload of the previous page (which may have
        // been deleted since): `1732700000000.m_…`.
        var after: (createdAtMs: Int64, id: String)?
        if let cursor = input.query.cursor {
            let parts = cursor.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let time = Int64(parts[0]), time >= 0 else { throw Problem.validation("cursor", .cursorInvalid) }
            after = (time, String(parts[1]))
        }
        let items = try await storage.media.media(ownerId: owner, after: after, limit: limit + 1)
        let page = items.prefix(limit)
        // Stored times are whole milliseconds: rounding finds them back exactly.
        let next = items.count > limit ? page.last.map { "\(SQLiteStorage.ms($0.createdAt, rounding: .toNearestOrAwayFromZero)).\($0.id)" } : nil
        return .ok(.init(body: .json(.init(items: page.map(Self.media), next: next,
                                           usedBytes: try await storage.media.usedBytes(ownerId: owner), quotaBytes: configuration.mediaQuotaBytes))))
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
        let spec = header.dropFirst(6).trimmingCharacters(in: .whitespaces)
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
        guard let record = try await storage.media.media(id: input.path.mediaId) else { throw Problem.notFound(.mediaNotFound) }
        let etag = "\"\(record.sha256)\""
        ResponseOverrides.current?.set(.contentType, record.contentType)
        ResponseOverrides.current?.set(.cacheControl, "private, max-age=86400")
        if let match = input.headers.ifNoneMatch, match == "*" || match.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
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
            guard let bytes = try await blobs().get(key: record.sha256, range: range) else { throw Problem.notFound(.mediaNotFound) }
            // Written as is (the runtime would encode its spaces and slash).
            ResponseOverrides.current?.set(.contentRange, "bytes \(range.lowerBound)-\(range.upperBound)/\(record.size)")
            return .partialContent(.init(headers: .init(eTag: etag, contentRange: "bytes \(range.lowerBound)-\(range.upperBound)/\(record.size)"),
                                         body: .any(HTTPBody(bytes))))
        case .whole:
            guard let bytes = try await blobs().get(key: record.sha256, range: nil) else { throw Problem.notFound(.mediaNotFound) }
            return .ok(.init(headers: .init(eTag: etag, acceptRanges: "bytes"), body: .any(HTTPBody(bytes))))
        }
    }

    func getMediaLink(_ input: Operations.GetMediaLink.Input) async throws -> Operations.GetMediaLink.Output {
        guard let record = try await storage.media.media(id: input.path.mediaId) else { throw Problem.notFound(.mediaNotFound) }
        let lifetime = configuration.mediaLinkLifetime
        // The store checks the link against its own clock: the real time, whole seconds.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        guard let url = try blobs().link(key: record.sha256, contentType: record.contentType, expires: lifetime, at: now) else {
            throw Problem.conflict(.mediaNoLinks)
        }
        return .ok(.init(body: .json(.init(url: url, expiresAt: now.addingTimeInterval(Double(lifetime))))))
    }

    func deleteMedia(_ input: Operations.DeleteMedia.Input) async throws -> Operations.DeleteMedia.Output {
        let principal = try principal
        // Another user's file is answered as missing.
        guard let record = try await storage.media.media(id: input.path.mediaId), record.ownerId == principal.user.id else {
            throw Problem.notFound(.mediaNotFound)
        }
        // The record, then the bytes if no record names them any more, under the content's lock.
        try await services.mediaLocks.withLock(record.sha256) {
            guard let deleted = try await storage.media.delete(id: record.id) else { throw Problem.notFound(.mediaNotFound) }
            if !deleted.stillUsed { await blobs().forget(key: record.sha256) }
        }
        try await audit("media.deleted", target: record.id, ["sha256": record.sha256])
        return .noContent(.init())
    }
}

/// Calls to the media store, with its failures turned into 503 problems.
struct MediaStoreCalls {
    let store: any BlobStore
    let logger: Logger

    func guarded<T>(_ what: String, _ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch MediaError.io(let reason) {
            logger.error("the media store failed", metadata: ["operation": "\(what)", "store": "\(store.description)", "error": "\(reason)"])
            throw Problem(.serviceUnavailable, "unavailable", title: .titleUnavailable, detail: .mediaStoreUnavailable)
        }
    }

    func put(_ bytes: [UInt8], key: String, contentType: String) async throws {
        try await guarded("put") { try await store.put(bytes, key: key, contentType: contentType) }
    }

    func get(key: String, range: ClosedRange<Int>?) async throws -> [UInt8]? {
        try await guarded("get") { try await store.get(key: key, range: range) }
    }

    /// Deletes a blob no record names any more. The record is already gone, so a failure is
    /// logged (the blob stays in the store, unreachable) and not answered.
    func forget(key: String) async {
        do {
            try await store.delete(key: key)
        } catch {
            logger.warning("a media blob could not be deleted; it stays in the store, unused", metadata: ["sha256": "\(key)", "store": "\(store.description)", "error": "\(error)"])
        }
    }

    func link(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String? {
        try store.link(key: key, contentType: contentType, expires: seconds, at: date)
    }
}
