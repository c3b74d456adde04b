// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "audiodq",
    products: [
        .library(name: "DiscreteAudio", targets: ["DiscreteAudio"]),
        .library(name: "SpectralDiagnostics", targets: ["SpectralDiagnostics"]),
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
        .target(name: "SpectralDiagnostics", dependencies: ["CFFTW", "DiscreteAudio"],
                exclude: ["REPORT_SCHEMA.md"]),
        .testTarget(name: "SpectralDiagnosticsTests", dependencies: ["SpectralDiagnostics", "DiscreteAudio"],
                    resources: [.copy("Fixtures")]),
    ]
)
