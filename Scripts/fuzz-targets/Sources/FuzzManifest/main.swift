import AudioDQ
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

// SwiftPM links executables with main = FuzzManifest_main; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ body: @convention(c) (UnsafeRawPointer, Int) -> CInt) -> CInt

@_cdecl("FuzzManifest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzz)
}
