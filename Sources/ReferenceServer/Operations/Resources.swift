import Foundation

/// The server's resource files (openapi.yaml, the message catalogs), found beside the
/// executable as SwiftPM places them, or in the source tree when run from a checkout. Unlike
/// `Bundle.module`, a missing bundle is an error to report, not a crash.
enum ServerResources {
    static let bundleName = "RollForLanguage_ReferenceServer.resources"

    static func folder() throws -> URL {
        var candidates: [URL] = []
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(executable.appendingPathComponent(bundleName))
        if let main = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() {
            candidates.append(main.appendingPathComponent(bundleName))
        }
        if let environment = ProcessInfo.processInfo.environment["RFL_RESOURCES_DIR"] {
            candidates.insert(URL(fileURLWithPath: environment), at: 0)
        }
        // A checkout: the sources themselves.
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(sources)
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("openapi.yaml").path) {
            return candidate
        }
        throw ConfigurationError("the server's resources (openapi.yaml, i18n/) are not beside the executable as \(bundleName); set RFL_RESOURCES_DIR")
    }

    static func openAPIDocument() throws -> String {
        try String(contentsOf: folder().appendingPathComponent("openapi.yaml"), encoding: .utf8)
    }

    /// The dice lab's files: index.html, lab.css, lab.js.
    static func lab() throws -> [String: [UInt8]] {
        let base = try folder()
        var folder = base.appendingPathComponent("Resources/lab")
        if !FileManager.default.fileExists(atPath: folder.path) { folder = base.appendingPathComponent("lab") }
        var files: [String: [UInt8]] = [:]
        for name in ["index.html", "lab.css", "lab.js"] {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw ConfigurationError("the dice lab's \(name) is missing from \(folder.path)")
            }
            files[name] = Array(data)
        }
        return files
    }

    static func catalogs() throws -> URL {
        let base = try folder()
        let bundled = base.appendingPathComponent("Resources/i18n")
        return FileManager.default.fileExists(atPath: bundled.path) ? bundled : base.appendingPathComponent("i18n")
    }
}
