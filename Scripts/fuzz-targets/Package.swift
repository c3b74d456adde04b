// swift-tools-version:6.0
// libFuzzer targets for audiodq's parsers. Build and run through Scripts/fuzz, which passes
// -sanitize=fuzzer (the targets do not link without it).
import PackageDescription

let package = Package(
    name: "audiodq-fuzz",
    dependencies: [.package(name: "audiodq", path: "../..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzSidecar", dependencies: ["FuzzDriver", .product(name: "AudioDQ", package: "audiodq")]),
        .executableTarget(name: "FuzzManifest", dependencies: ["FuzzDriver", .product(name: "AudioDQ", package: "audiodq")]),
        .executableTarget(name: "FuzzValues", dependencies: ["FuzzDriver", .product(name: "AudioDQ", package: "audiodq")]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["FuzzDriver", .product(name: "AudioDQ", package: "audiodq")]),
    ]
)
