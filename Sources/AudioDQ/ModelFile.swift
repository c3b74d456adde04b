import Foundation

/// A model file read once: the decoded checkpoint and the SHA-256 of the very bytes it was
/// decoded from. The sidecar records the hash (`dequantization.modelSHA256`), so a model
/// retrained in place is told from the one an output was made with, whatever its path. A corpus
/// reads (and hashes) its model once per run; each file gets a model of its own
/// (`makeModel()`: a model's workspaces are not shared between threads).
struct ModelFile: Sendable {
    let path: String
    let checkpoint: Checkpoint
    /// SHA-256 of the file, 64 lowercase hex digits.
    let sha256: String
    /// The model's method and K, and q's receptive field (frames each side; 0 without q).
    let method: DequantMethod
    let binCount: Int
    let receptiveField: Int
    /// The cells q was trained in (`TrainedCells`): a variational conversion refuses any other.
    let trainedCells: TrainedCells

    init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        var sha = SourceHash()
        data.withUnsafeBytes { sha.update($0) }
        self.path = path
        sha256 = sha.finalizeHex()
        checkpoint = try Checkpoint.decode(data, path: path)
        let model = try DequantModel(checkpoint: checkpoint, path: path)
        method = model.method
        binCount = model.binCount
        receptiveField = model.noise?.configuration.receptiveField ?? 0
        trainedCells = model.trainedCells
    }

    /// A model of its own for one conversion, built from the checkpoint read once.
    func makeModel() throws -> DequantModel {
        try DequantModel(checkpoint: checkpoint, path: path)
    }
}
