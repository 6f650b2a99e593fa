import Foundation
import Logging

/// What the media service refuses, in its own terms. The HTTP layer answers each as a problem
/// (``Problem/init(_:requestId:)``).
enum MediaServiceError: Error, Equatable, Sendable {
    /// The bytes are not of a type the server keeps (images and recordings, told by their bytes).
    case typeUnknown
    /// An upload larger than the limit, in bytes.
    case tooLarge(max: Int)
    /// The upload would take the owner past their quota, in bytes.
    case quotaExceeded(quota: Int)
    /// No such file (or one of another user's, where only its owner may act).
    case notFound
    /// The media store cannot make links (the local disk).
    case noLinks
    /// The media store failed; its reason is logged, not told.
    case storeUnavailable
    /// A page cursor the service did not give.
    case cursorInvalid
}

/// Media: images and recordings, typed by their bytes, kept once by content (by SHA-256) in
/// the blob store however many uploads name them, and counted against their owner's quota. The
/// bytes are stored before the record that names them and removed after the last such record,
/// under the content's lock. Uploads and deletions go to the audit log. Times come from `now`.
struct MediaService: Sendable {
    struct Limits: Sendable {
        /// The largest upload, in bytes.
        var maxBytes: Int
        /// The bytes one user's uploads may take in all.
        var quotaBytes: Int
        /// Seconds a download link lasts.
        var linkLifetime: Int
    }

    let store: any MediaStore
    let blobs: any BlobStore
    /// Held by uploads and deletions, by content.
    let locks: any KeyedLocking
    let limits: Limits
    let audit: AuditTrail
    /// Where the blob store's failures are told in full.
    let logger: Logger
    let now: @Sendable () -> Date

    /// Stores an upload of `ownerId`'s, within their quota.
    func upload(_ bytes: [UInt8], ownerId: String, by caller: Caller) async throws -> MediaRecord {
        guard bytes.count <= limits.maxBytes else { throw MediaServiceError.tooLarge(max: limits.maxBytes) }
        guard let type = MediaType.detect(bytes) else { throw MediaServiceError.typeUnknown }
        let sha256 = try await offTheEventLoop { Hex.sha256(bytes) }
        // A random id of the server's making: nothing about the file or its uploader shows in it.
        let record = MediaRecord(id: "m_" + Base64URL.encode((0..<18).map { _ in UInt8.random(in: 0...255) }), ownerId: ownerId,
                                 sha256: sha256, size: bytes.count, contentType: type, createdAt: now())
        let (total, overflow) = try await store.usedBytes(ownerId: ownerId).addingReportingOverflow(bytes.count)
        guard !overflow, total <= limits.quotaBytes else { throw MediaServiceError.quotaExceeded(quota: limits.quotaBytes) }
        // The bytes first, then the record: a record never names missing bytes. Under the
        // content's lock, so that a deletion of its last record cannot remove the bytes between.
        try await locks.withLock("media:" + sha256) {
            try await guarded("put", by: caller) { try await blobs.put(bytes, key: sha256, contentType: type) }
            do {
                try await store.create(record, quota: limits.quotaBytes)
            } catch StoreError.conflict {
                // Over the quota after all (another upload of the same user came first).
                if try await !store.isUsed(sha256: sha256) { await forget(sha256, by: caller) }
                throw MediaServiceError.quotaExceeded(quota: limits.quotaBytes)
            }
        }
        try await audit.record("media.uploaded", by: caller, target: record.id, ["type": type, "size": String(bytes.count), "sha256": sha256])
        return record
    }

    /// A page of the owner's uploads, newest first.
    struct Listing: Sendable {
        var items: [MediaRecord]
        /// The cursor of the next page, if more follow.
        var next: String?
        var usedBytes: Int
        var quotaBytes: Int
    }

    /// The owner's uploads, `limit` (at least one) at a time, after `cursor`: the time and id
    /// of the last upload of the previous page (which may have been deleted since),
    /// `1732700000000.m_…`.
    func uploads(of ownerId: String, after cursor: String?, limit: Int) async throws -> Listing {
        var after: (createdAtMs: Int64, id: String)?
        if let cursor {
            let parts = cursor.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let time = Int64(parts[0]), time >= 0 else { throw MediaServiceError.cursorInvalid }
            after = (time, String(parts[1]))
        }
        let page = try await Page.read(limit: limit) { rows in try await store.media(ownerId: ownerId, after: after, limit: rows) }
        // Stored times are whole milliseconds: rounding finds them back exactly.
        let next = page.more ? page.items.last.map { "\(SQLiteStorage.ms($0.createdAt, rounding: .toNearestOrAwayFromZero)).\($0.id)" } : nil
        return Listing(items: page.items, next: next, usedBytes: try await store.usedBytes(ownerId: ownerId), quotaBytes: limits.quotaBytes)
    }

    func media(id: String) async throws -> MediaRecord {
        guard let record = try await store.media(id: id) else { throw MediaServiceError.notFound }
        return record
    }

    /// The file's bytes, or those of `range` (offsets within the file, inclusive).
    func bytes(of record: MediaRecord, range: ClosedRange<Int>?, by caller: Caller) async throws -> [UInt8] {
        guard let bytes = try await guarded("get", by: caller, { try await blobs.get(key: record.sha256, range: range) }) else {
            throw MediaServiceError.notFound
        }
        return bytes
    }

    /// A link that fetches the file without credentials, and when it stops working, where the
    /// store makes links.
    func link(id: String) async throws -> (url: String, expiresAt: Date) {
        let record = try await media(id: id)
        // The store checks the link against its own clock, in whole seconds.
        let time = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        guard let url = try blobs.link(key: record.sha256, contentType: record.contentType, expires: limits.linkLifetime, at: time) else {
            throw MediaServiceError.noLinks
        }
        return (url, time.addingTimeInterval(Double(limits.linkLifetime)))
    }

    /// Deletes one of the owner's uploads (another user's is not found), and its bytes when no
    /// other upload names them.
    func delete(id: String, ownerId: String, by caller: Caller) async throws {
        guard let record = try await store.media(id: id), record.ownerId == ownerId else { throw MediaServiceError.notFound }
        // The record, then the bytes if no record names them any more, under the content's lock.
        try await locks.withLock("media:" + record.sha256) {
            guard let deleted = try await store.delete(id: record.id) else { throw MediaServiceError.notFound }
            if !deleted.stillUsed { await forget(record.sha256, by: caller) }
        }
        try await audit.record("media.deleted", by: caller, target: record.id, ["sha256": record.sha256])
    }

    /// A call to the blob store, whose failures (an S3 store that does not answer, or refuses)
    /// are logged in full and thrown as ``MediaServiceError/storeUnavailable``.
    private func guarded<T>(_ operation: String, by caller: Caller, _ call: () async throws -> T) async throws -> T {
        do {
            return try await call()
        } catch MediaError.io(let reason) {
            logger.error("the media store failed", metadata: ["operation": "\(operation)", "store": "\(blobs.description)", "error": "\(reason)",
                                                              "request_id": "\(caller.requestId ?? "none")"])
            throw MediaServiceError.storeUnavailable
        }
    }

    /// Deletes a blob no record names any more. The record is already gone, so a failure is
    /// logged (the blob stays in the store, unreachable) and not thrown.
    private func forget(_ key: String, by caller: Caller) async {
        do {
            try await blobs.delete(key: key)
        } catch {
            logger.warning("a media blob could not be deleted; it stays in the store, unused",
                           metadata: ["sha256": "\(key)", "store": "\(blobs.description)", "error": "\(error)", "request_id": "\(caller.requestId ?? "none")"])
        }
    }
}
