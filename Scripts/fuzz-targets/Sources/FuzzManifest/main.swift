import AudioDQ
import FuzzDriver
import Foundation

/// Manifest text: every entry must map inside the output folder, and no input may crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for entry in BatchPlan.parseManifest(text, base: "corpus") {
        precondition(!entry.relative.hasPrefix("/"), "relative path is absolute: \(entry.relative)")
        precondition(!entry.relative.split(separator: "/").contains(".."), "relative path climbs: \(entry.relative)")
    }
    return 0
}


@_cdecl("FuzzManifest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
