import Crypto
import Foundation

/// Where the bytes of media live: content-addressed blobs, by the SHA-256 of their content. The
/// local disk is the default; an S3-compatible store is the other implementation (docs/media.md).
package protocol BlobStore: Sendable, CustomStringConvertible {
    /// Stores the bytes under `key` (the same content again is a no-op), as `contentType` where
    /// the store keeps one.
    func put(_ bytes: [UInt8], key: String, contentType: String) async throws
    /// The bytes, or the bytes of `range` (offsets, inclusive); nil when missing.
    func get(key: String, range: ClosedRange<Int>?) async throws -> [UInt8]?
    /// Whether a blob is stored under `key`.
    func contains(key: String) async throws -> Bool
    func delete(key: String) async throws
    /// A URL that fetches the blob, served as `contentType`, without credentials for `seconds`
    /// from `date`, where the store can make one (S3 presigned URLs); nil otherwise.
    func link(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String?
    /// Where the blobs are, for logs and messages (never a secret).
    var description: String { get }
}

/// Blobs as files under a folder, two levels of folders by the key's first characters (so no
/// folder grows too large), written to a temporary file and renamed (no half-written blob is
/// ever seen), readable by the server's user only.
package struct LocalBlobStore: BlobStore {
    package let root: String

    package init(root: String) {
        self.root = root
    }

    func path(_ key: String) throws -> String {
        guard key.count == 64, key.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { throw MediaError.badKey }
        return "\(root)/\(key.prefix(2))/\(key.dropFirst(2).prefix(2))/\(key)"
    }

    package var description: String { "the folder \(root)" }

    // The file calls below run on NIO's thread pool: a blob may be large, and the event loops
    // serve every connection.

    package func put(_ bytes: [UInt8], key: String, contentType: String) async throws {
        let path = try path(key)
        try await offTheEventLoop { try Self.write(bytes, key: key, to: path) }
    }

    private static func write(_ bytes: [UInt8], key: String, to path: String) throws {
        if FileManager.default.fileExists(atPath: path) { return }
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = "\(folder)/.\(key).\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
            throw MediaError.io("cannot write \(temporary)")
        }
        if rename(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            throw MediaError.io("cannot move a blob into place at \(path)")
        }
    }

    package func get(key: String, range: ClosedRange<Int>?) async throws -> [UInt8]? {
        let path = try path(key)
        return try await offTheEventLoop { try Self.read(path, range: range) }
    }

    private static func read(_ path: String, range: ClosedRange<Int>?) throws -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let range else { return Array(try handle.readToEnd() ?? Data()) }
        // Within the file as it is on disk, whatever the range says (a range past its end, from
        // a record whose size is wrong, reads what there is, never a huge buffer): no
        // conversion or count here can trap.
        guard let start = UInt64(exactly: range.lowerBound) else { throw MediaError.io("the range \(range) starts before the file") }
        let end = try handle.seekToEnd()
        guard start < end else { return [] }
        // upperBound >= lowerBound >= 0: the span is at most Int.max + 1, which UInt64 holds.
        let count = min(UInt64(range.upperBound) - start + 1, end - start)
        try handle.seek(toOffset: start)
        return Array(try handle.read(upToCount: Int(clamping: count)) ?? Data())
    }

    package func contains(key: String) async throws -> Bool {
        let path = try path(key)
        return try await offTheEventLoop { FileManager.default.fileExists(atPath: path) }
    }

    package func delete(key: String) async throws {
        let path = try path(key)
        try await offTheEventLoop { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Files on the server's disk are reached through the server only.
    package func link(key: String, contentType: String, expires seconds: Int, at date: Date) throws -> String? { nil }
}

extension ServerConfiguration {
    /// The media store of `backend`, checked: an S3 bucket must answer to the credentials (it is
    /// created when missing). A store that cannot be used is a configuration error.
    package func openMediaStore(_ backend: MediaBackend) async throws -> any BlobStore {
        switch backend {
        case .local:
            return LocalBlobStore(root: mediaPath)
        case .s3:
            guard let s3 else { throw ConfigurationError("RFL_S3_ENDPOINT, RFL_S3_BUCKET, RFL_S3_ACCESS_KEY_ID and RFL_S3_SECRET_ACCESS_KEY are needed") }
            let store: S3BlobStore
            do {
                store = try S3BlobStore(s3)
                try await store.prepare()
            } catch MediaError.io(let reason) {
                throw ConfigurationError("RFL_S3_*: \(reason)")
            }
            return store
        }
    }
}

package enum MediaError: Error, Equatable, Sendable {
    case badKey
    case io(String)
}

/// What a file is, decided by its first bytes (never by what the client says).
package enum MediaType {
    package static func detect(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        let ascii = { (text: String) in Array(text.utf8) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(ascii("GIF87a")) || starts(ascii("GIF89a")) { return "image/gif" }
        if starts(ascii("RIFF")) && starts(ascii("WEBP"), at: 8) { return "image/webp" }
        if starts(ascii("RIFF")) && starts(ascii("WAVE"), at: 8) { return "audio/wav" }
        if starts(ascii("OggS")) { return "audio/ogg" }
        if starts(ascii("fLaC")) { return "audio/flac" }
        if starts(ascii("ID3")) { return "audio/mpeg" }
        // An MPEG audio frame: eleven set sync bits, a valid version and layer III.
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] & 0xE0 == 0xE0, bytes[1] & 0x06 == 0x02, bytes[1] & 0x18 != 0x08 { return "audio/mpeg" }
        if starts(ascii("ftyp"), at: 4), bytes.count >= 12 {
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            if ["M4A ", "M4B "].contains(brand) { return "audio/mp4" }
        }
        return nil
    }
}
