// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "audiodq",
    products: [
        .library(name: "AudioDQ", targets: ["AudioDQ"]),
        .executable(name: "audiodq", targets: ["audiodq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // SHA-256 of every source file (sidecars, manifests): BoringSSL's assembly runs it at GB/s.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C shims: each imported by exactly one Swift module.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", providers: [.apt(["libopenblas-dev"])]),   // loaded on first use: see BLAS.swift

        .target(name: "DiscreteAudio"),
        .target(name: "SoundFileIO", dependencies: ["CSndFile", "DiscreteAudio"]),
        // Normalizing flows on Float32 (batch, channels, time) buffers; the only user of BLAS.
        .target(name: "FlowEngine", dependencies: ["CBLAS"]),
        .target(name: "Dequantization", dependencies: ["DiscreteAudio", "FlowEngine"]),
        .target(name: "SpectralDiagnostics", dependencies: ["CFFTW", "DiscreteAudio"],
                exclude: ["REPORT_SCHEMA.md"]),
        .target(name: "AudioDQ", dependencies: [
            "DiscreteAudio", "SoundFileIO", "Dequantization", "SpectralDiagnostics",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "audiodq", dependencies: [
            "AudioDQ",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dqbench", dependencies: ["AudioDQ"]),
        .executableTarget(name: "flowbench", dependencies: ["FlowEngine"]),
        .testTarget(name: "DiscreteAudioTests", dependencies: ["DiscreteAudio"]),
        .testTarget(name: "SoundFileIOTests", dependencies: ["SoundFileIO", "DiscreteAudio"]),
        .testTarget(name: "DequantizationTests", dependencies: ["Dequantization", "DiscreteAudio", "FlowEngine"]),
        .testTarget(name: "SpectralDiagnosticsTests", dependencies: ["SpectralDiagnostics", "DiscreteAudio"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "FlowEngineTests", dependencies: ["FlowEngine"]),
        .testTarget(name: "AudioDQTests", dependencies: [
            "AudioDQ", "audiodq", .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["Golden"]),
    ]
)
