import ArgumentParser
import Mechanics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `rfl`: the engine on the command line. Exit codes: 0 ok, 1 invalid input, 2 usage.
@main
struct RFL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfl",
        abstract: "Roll for Language: dice, odds, checks and content packs on the command line.",
        discussion: "Exit codes: 0 ok, 1 invalid input, 2 usage.",
        version: EngineVersion.string,
        subcommands: [RollCommand.self, OddsCommand.self, CheckCommand.self, ValidateCommand.self, PackCommand.self, BenchCommand.self]
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as InputFailure {
            printError(failure.message)
            terminate(1)
        } catch let error as EngineError {
            printError(error.description)
            terminate(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                terminate(0)
            }
            if let exitCode = error as? ExitCode {
                terminate(exitCode.rawValue)
            }
            printError(fullMessage(for: error))
            terminate(2)
        }
    }
}

/// Input that parsed as arguments but is invalid: exit code 1 with this message.
struct InputFailure: Error {
    var message: String
}

func printError(_ message: String) {
    var standardError = StandardError()
    print(message.hasPrefix("error:") || message.hasPrefix("Error:") ? message : "error: \(message)", to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        _ = string.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

func terminate(_ code: Int32) -> Never {
    exit(code)
}
