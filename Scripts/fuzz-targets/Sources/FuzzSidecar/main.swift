import AudioDQ
import FuzzDriver
import Foundation

/// Sidecar JSON: must parse or throw, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    if let sc = try? Sidecar.decode(data, path: "fuzz.json") {
        _ = try? sc.encoded()
        _ = sc.dequantization.range.bin(of: 0.5, binCount: sc.source.binCount)
    }
    return 0
}


@_cdecl("FuzzSidecar_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
