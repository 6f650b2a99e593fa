// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "RollForLanguage",
    products: [
        .library(name: "Mechanics", targets: ["Mechanics"]),
        .library(name: "ContentPacks", targets: ["ContentPacks"]),
        .executable(name: "rfl", targets: ["rfl"]),
        // The C ABI (include/rfl.h), built as libRFL.so and installed as librfl.so.1 by `make lib`
        // (a product may not share the name of the `rfl` executable). Self-contained (the Swift runtime linked in), with
        // a SONAME that carries the ABI version and only the rfl_* functions exported.
        .library(name: "RFL", type: .dynamic, targets: ["RFL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
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
    ],
    swiftLanguageModes: [.v6]
)
