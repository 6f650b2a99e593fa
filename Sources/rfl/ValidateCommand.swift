import ArgumentParser
import ContentPacks

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate content packs: structure (the XSD), then meaning, across all of them.",
        discussion: """
            Prints every problem as path:line:column: error: message (or warning:), one a line. \
            Folders are searched for .xml files. Exit code 0 when valid (warnings allowed), 1 when not.
            """
    )

    @Argument(help: "Pack files or folders.")
    var paths: [String]

    @Flag(help: "Print nothing when valid; only the problems otherwise.")
    var quiet = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("give at least one pack file or folder") }
    }

    func run() throws {
        let diagnostics = PackLoader().validate(paths: paths)
        for diagnostic in diagnostics { print(diagnostic) }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if errors > 0 {
            printError("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        if !quiet { print("valid" + (warnings > 0 ? " (\(warnings) warning\(warnings == 1 ? "" : "s"))" : "")) }
    }
}
