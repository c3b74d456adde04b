import Foundation

/// A model file read once: the model and the SHA-256 of the very bytes it was built from. The
/// sidecar records the hash (`dequantization.modelSHA256`), so a model retrained in place is told
/// from the one an output was made with, whatever its path.
struct ModelFile {
    let model: DequantModel
    /// SHA-256 of the file, 64 lowercase hex digits.
    let sha256: String

    init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var sha = SourceHash()
        data.withUnsafeBytes { sha.update($0) }
        sha256 = sha.finalizeHex()
        model = try DequantModel(checkpoint: Checkpoint.decode(data, path: path), path: path)
    }
}
