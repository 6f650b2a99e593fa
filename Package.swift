// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "RollForLanguage",
    products: [
        .library(name: "Mechanics", targets: ["Mechanics"]),
        .library(name: "ContentPacks", targets: ["ContentPacks"]),
        .executable(name: "rfl", targets: ["rfl"]),
        .library(name: "ReferenceServer", targets: ["ReferenceServer"]),
        .executable(name: "rfl-server", targets: ["rfl-server"]),
        // The C ABI (include/rfl.h), built as libRFL.so and installed as librfl.so.1 by `make lib`
        // (a product may not share the name of the `rfl` executable). Self-contained (the Swift runtime linked in), with
        // a SONAME that carries the ABI version and only the rfl_* functions exported.
        .library(name: "RFL", type: .dynamic, targets: ["RFL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        // The reference server.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        .target(name: "Mechanics"),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "ContentPacks",
            dependencies: ["Mechanics", "CLibXML2"]
        ),
        .target(
            name: "RFL",
            dependencies: ["Mechanics", "ContentPacks"],
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib",
                    "-Xlinker", "-soname", "-Xlinker", "librfl.so.1",
                    "-Xlinker", "--version-script=\(Context.packageDirectory)/include/rfl.map",
                ]),
            ]
        ),
        .executableTarget(
            name: "rfl",
            dependencies: [
                "Mechanics",
                "ContentPacks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The reference HTTP server as a library: routes, storage, auth, operations. Its HTTP
        // contract is openapi.yaml beside its sources, from which the generator makes the types
        // and the routing at build time.
        .target(
            name: "ReferenceServer",
            dependencies: [
                "Mechanics",
                "ContentPacks",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources"), .copy("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // Reads configuration and starts the server; the subcommands run the operations
        // (migrate, seed, user, audit, backup, restore).
        .executableTarget(
            name: "rfl-server",
            dependencies: [
                "ReferenceServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MechanicsTests",
            dependencies: [
                "Mechanics",
                .product(name: "BigInt", package: "BigInt"),
            ]
        ),
        .testTarget(
            name: "ContentPacksTests",
            dependencies: ["ContentPacks", "Mechanics"]
        ),
        .testTarget(
            name: "rflTests",
            dependencies: ["rfl"]
        ),
        .testTarget(
            name: "ReferenceServerTests",
            dependencies: [
                "ReferenceServer",
                "rfl-server",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
