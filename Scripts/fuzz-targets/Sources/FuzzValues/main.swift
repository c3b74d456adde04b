import AudioDQ
import FuzzDriver
import Foundation

/// The readers `restore` and `report` use: .npy headers (parsed from memory) and whole .npy/.f32
/// files (written to a temporary file, then streamed). Must read or throw, never crash or hang.
let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-fuzz-\(getpid())").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    _ = try? NpyHeader.parse(bytes, path: "fuzz.npy")
    for ext in ["npy", "f32"] {
        let path = scratch + "." + ext
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        if let r = try? ValueReader(path: path, channels: 1) {
            var buf = [Double](repeating: 0, count: 4096)
            while let n = try? buf.withUnsafeMutableBufferPointer({ try r.read(into: $0) }), n > 0 {}
        }
        unlink(path)
    }
    return 0
}


@_cdecl("FuzzValues_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
