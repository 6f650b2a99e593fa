// swift-tools-version: 6.2
// The reference point of the server's load figures (docs/performance.md): a bare Hummingbird
// route that decodes a JSON body and echoes it, measured by scripts/load-server.py in the same
// run as the server. Not part of the project's build.
import PackageDescription

let package = Package(
    name: "bare-route",
    dependencies: [.package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1")],
    targets: [
        .executableTarget(name: "bare-route", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
    ],
    swiftLanguageModes: [.v6]
)
