import Mechanics

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads XML content packs into one ruleset, or reports every problem with its file, line and
/// column. Safe on hostile input: DTDs, entities and network access are refused, sizes, depth
/// and element counts are bounded (``PackLimits``), and nothing is read past `maxFileSize`.
///
/// ```swift
/// let loaded = try PackLoader().load(paths: ["rulesets"])
/// var hero = CharacterSheet(ruleset: loaded.ruleset)
/// loaded.name(of: "core:speaking", language: "es")   // "Expresión oral"
/// ```
public struct PackLoader: Sendable {
    public var limits: PackLimits

    public init(limits: PackLimits = .default) {
        self.limits = limits
    }

    /// Loads pack files, and the `.xml` files in folders (recursively), as one ruleset in
    /// dependency order. Throws every error found (warnings too) when any error is found.
    public func load(paths: [String]) throws(PackError) -> LoadedRuleset {
        let (loaded, diagnostics, code) = run(paths: paths)
        guard let loaded else { throw PackError(diagnostics, code: code) }
        return loaded
    }

    /// Loads packs held in memory; `path` names each in diagnostics.
    public func load(sources: [(path: String, xml: [UInt8])]) throws(PackError) -> LoadedRuleset {
        let (loaded, diagnostics, code) = compose(sources.map { ($0.path, Result<[UInt8], PackError>.success($0.xml)) })
        guard let loaded else { throw PackError(diagnostics, code: code) }
        return loaded
    }

    /// Loads one pack from a string.
    public func load(xml: String, path: String = "<memory>") throws(PackError) -> LoadedRuleset {
        try load(sources: [(path, Array(xml.utf8))])
    }

    /// Every diagnostic, errors and warnings, for the packs at `paths` (files or folders), as
    /// `rfl validate` prints them. Never throws: a file that cannot be read is a diagnostic too.
    public func validate(paths: [String]) -> [Diagnostic] {
        run(paths: paths).1.sorted()
    }

    /// Every diagnostic for packs held in memory (an upload, say) composed together.
    public func validate(sources: [(path: String, xml: [UInt8])]) -> [Diagnostic] {
        compose(sources.map { ($0.path, Result<[UInt8], PackError>.success($0.xml)) }).1.sorted()
    }

    /// What one pack file declares, read and checked on its own (its dependencies are not
    /// loaded, so references into them are not resolved).
    public func describe(path: String) throws(PackError) -> PackInfo {
        let bytes: [UInt8]
        switch FileSystem.read(path, limit: limits.maxFileSize) {
        case .success(let contents): bytes = contents
        case .failure(let error): throw error
        }
        return try describe(xml: bytes, path: path)
    }

    /// What one pack held in memory declares (an upload, say), checked on its own.
    public func describe(xml bytes: [UInt8], path: String = "<memory>") throws(PackError) -> PackInfo {
        switch parse(bytes, path: path) {
        case .success(let (document, diagnostics)):
            guard let document, !diagnostics.contains(where: { $0.severity == .error }) else { throw PackError(diagnostics) }
            return document.info
        case .failure(let error):
            throw error
        }
    }

    // MARK: - Stages

    private func run(paths: [String]) -> (LoadedRuleset?, [Diagnostic], EngineError.Code) {
        var files: [(String, Result<[UInt8], PackError>)] = []
        var problems: [Diagnostic] = []
        for path in paths {
            switch FileSystem.packFiles(at: path) {
            case .success(let list):
                if list.isEmpty { problems.append(Diagnostic(path: path, line: 1, column: 1, code: "io", "no .xml pack files here")) }
                for file in list where !files.contains(where: { $0.0 == file }) {
                    files.append((file, FileSystem.read(file, limit: limits.maxFileSize)))
                }
            case .failure(let error):
                problems.append(contentsOf: error.diagnostics)
            }
        }
        if files.count > limits.maxPacks {
            problems.append(Diagnostic(path: paths.first ?? "", line: 1, column: 1, code: "limit", "\(files.count) pack files; the limit maxPacks is \(limits.maxPacks)"))
            return (nil, problems, .limit)
        }
        if files.isEmpty { return (nil, problems, .io) }
        let (loaded, diagnostics, code) = compose(files)
        let all = problems + diagnostics
        return (problems.isEmpty ? loaded : nil, all, problems.isEmpty ? code : .io)
    }

    private func compose(_ files: [(String, Result<[UInt8], PackError>)]) -> (LoadedRuleset?, [Diagnostic], EngineError.Code) {
        var documents: [PackDocument] = []
        var diagnostics: [Diagnostic] = []
        var code = EngineError.Code.invalid
        if files.isEmpty {
            return (nil, [Diagnostic(path: "", line: 1, column: 1, code: "io", "no packs given")], .misuse)
        }
        for (path, contents) in files {
            switch contents {
            case .failure(let error):
                diagnostics += error.diagnostics
                if error.code != .invalid { code = error.code }
            case .success(let bytes):
                switch parse(bytes, path: path) {
                case .success(let (document, found)):
                    diagnostics += found
                    if let document { documents.append(document) }
                case .failure(let error):
                    diagnostics += error.diagnostics
                    if error.code != .invalid { code = error.code }
                }
            }
        }
        let fileErrors = diagnostics.contains { $0.severity == .error }
        var composer = Composer(documents, limits: limits)
        let loaded = composer.compose()
        diagnostics += composer.diagnostics
        return (fileErrors ? nil : loaded, diagnostics, code)
    }

    /// One file: prescan, parse, schema, then read. Returns the document when it could be read
    /// (even with schema errors, so that composition can report more), with its diagnostics.
    func parse(_ bytes: [UInt8], path: String) -> Result<(PackDocument?, [Diagnostic]), PackError> {
        guard bytes.count <= limits.maxFileSize else {
            return .failure(PackError([Diagnostic(path: path, line: 1, column: 1, code: "limit",
                                                  "the pack is \(bytes.count) bytes; the limit maxFileSize is \(limits.maxFileSize)")], code: .limit))
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) || bytes == [0xEF, 0xBB, 0xBF] {
            return .failure(PackError([Diagnostic(path: path, line: 1, column: 1, code: "xml",
                                                  "the file is empty; a pack is an XML document whose root element is <pack>")]))
        }
        let text = SourceText(bytes)
        let prescan: Prescan
        do {
            prescan = try Prescan(text, path: path, limits: limits)
        } catch {
            return .failure(error)
        }
        var sink = DiagnosticSink(path: path)
        guard let file = LibXML.parse(text, path: path, prescan: prescan, validate: true, sink: &sink) else {
            return .success((nil, sink.diagnostics))
        }
        let document = PackReader.read(file, sink: &sink)
        return .success((document, sink.diagnostics))
    }
}

/// Reading files and folders with the C library (no Foundation in the engine's libraries).
enum FileSystem {
    /// `path` itself when it is a file; the `.xml` files under it, sorted, when it is a folder.
    static func packFiles(at path: String) -> Result<[String], PackError> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .failure(ioError(path, "cannot read '\(path)': \(String(cString: strerror(errno)))"))
        }
        if info.st_mode & S_IFMT != S_IFDIR { return .success([path]) }
        var found: [String] = []
        var folders = [path]
        // Folders already seen, by device and inode: a symbolic link back up the tree is
        // followed once, never round and round.
        var seen: Set<[UInt64]> = [[UInt64(info.st_dev), UInt64(info.st_ino)]]
        while let folder = folders.popLast() {
            guard seen.count <= 10_000, let directory = opendir(folder) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                // The name in place, up to its NUL: `d_name` is declared as a 256-byte array,
                // but the kernel writes only the name and its NUL; copying or scanning the whole
                // array reads bytes never written.
                let name = withUnsafeMutablePointer(to: &entry.pointee.d_name) { field in
                    field.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: field.pointee)) { String(cString: $0) }
                }
                if name.hasPrefix(".") { continue }
                let full = folder.hasSuffix("/") ? folder + name : folder + "/" + name
                var child = stat()
                guard stat(full, &child) == 0 else { continue }
                switch child.st_mode & S_IFMT {
                case S_IFDIR:
                    if seen.insert([UInt64(child.st_dev), UInt64(child.st_ino)]).inserted { folders.append(full) }
                case S_IFREG where name.hasSuffix(".xml"):
                    found.append(full)
                default:
                    // Pipes, sockets and devices named *.xml are not packs: reading one could
                    // wait forever.
                    continue
                }
            }
        }
        return .success(found.sorted())
    }

    /// The whole file, refusing it before reading when it is larger than `limit`.
    static func read(_ path: String, limit: Int) -> Result<[UInt8], PackError> {
        // Non-blocking, so that opening a named pipe does not wait for a writer; then only a
        // regular file is read.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(ioError(path, "cannot open '\(path)': \(String(cString: strerror(errno)))")) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return .failure(ioError(path, "cannot read '\(path)': \(String(cString: strerror(errno)))")) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return .failure(ioError(path, "cannot read '\(path)': not a regular file"))
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            return .failure(PackError([Diagnostic(path: path, line: 1, column: 1, code: "limit",
                                                  "the pack is \(size) bytes; the limit maxFileSize is \(limit)")], code: .limit))
        }
        // Read at most one byte past the limit, in case the file grew since fstat.
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var total = 0
        while total < bytes.count {
            let count = bytes[total...].withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ioError(path, "cannot read '\(path)': \(String(cString: strerror(errno)))"))
            }
            if count == 0 { break }
            total += count
        }
        guard total <= limit else {
            return .failure(PackError([Diagnostic(path: path, line: 1, column: 1, code: "limit", "the pack is larger than the limit maxFileSize, \(limit) bytes")], code: .limit))
        }
        bytes.removeSubrange(total...)
        return .success(bytes)
    }

    static func ioError(_ path: String, _ message: String) -> PackError {
        PackError([Diagnostic(path: path, line: 1, column: 1, code: "io", message)], code: .io)
    }
}

extension PackLoader {
    /// The XSD of pack format 1, as built into the loader (the same as rulesets/schema/pack-1.xsd).
    public static var schema: String { PackSchema.text }
}
