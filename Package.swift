// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "audiodq",
    products: [
        .library(name: "DiscreteAudio", targets: ["DiscreteAudio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims: each imported by exactly one Swift module.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

        .target(name: "DiscreteAudio"),
        .testTarget(name: "DiscreteAudioTests", dependencies: ["DiscreteAudio"]),

        // Normalizing flows on Float32 (batch, channels, time) buffers; the only user of BLAS.
        .target(name: "FlowEngine", dependencies: ["CBLAS"]),
        .testTarget(name: "FlowEngineTests", dependencies: ["FlowEngine"]),
        .executableTarget(name: "flowbench", dependencies: ["FlowEngine"]),
    ]
)
