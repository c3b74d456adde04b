import Foundation

/// `audiodq sample`: draws z ~ N(0, T²·I) (T the temperature), inverts the flow, and quantizes
/// with the exact decode rule of the unit range shifted by ½: x = ⌊(v + ½)·K⌋, clamped to 0…K−1
/// (the flow can put mass outside the range). A model of G.711 trained in the linear domain
/// (`FlowInput`: S = 65536) maps t = v·S, clamped to [−S/2, S/2), to the code of the law's
/// decision interval holding it (`Quantizer.cell(ofValue:)`). Writes the model's encoding in the
/// container the output's extension names, at the model's sample rate.
public enum Sampler {
    public struct Summary: Sendable {
        public var frames: Int
        public var clamped: Int
    }

    public static func run(modelPath: String, seconds: Double, seed: UInt64, temperature: Float, output: String,
                           force: Bool) throws -> Summary {
        guard let container = AudioContainer(pathExtension: FileSystem.pathExtension(output)) else {
            throw AudioDQError.unknownOutputFormat(path: output, allowed: ".wav, .aiff, .au, .flac or .raw")
        }
        let model = try DequantModel.load(path: modelPath)
        try BLAS.ensureLoaded()
        let g = model.lengthMultiple
        let frames = max(g, Int((seconds * Double(model.sampleRate)).rounded(.up)) / g * g)
        let out = try AtomicOutput(path: output, force: force, inputs: [modelPath])
        let v = try model.flow.sample(batch: 1, length: frames, temperature: temperature, seed: seed)
        let k = model.input.scaleSize
        let cells = model.input.domain == .linear && !model.encoding.isLinear
            ? try Quantizer.g711Linear(model.encoding, container: model.encoding) : nil
        var clamped = 0
        let bins: [UInt32] = v.map { y in
            let x = ((Double(y) + 0.5) * Double(k)).rounded(.down)
            if !(x >= 0 && x < Double(k)) { clamped += 1 }
            let bin = x.isFinite ? min(max(x, 0), Double(k - 1)) : Double(k / 2)
            guard let cells else { return UInt32(bin) }
            return UInt32(cells.bin(ofCell: cells.cell(ofPoint: Int(bin) - k / 2)))
        }
        let writer = try Restorer.makeWriter(out: out, finalPath: output, container: container, encoding: model.encoding,
                                             sampleRate: model.sampleRate, channels: 1)
        do {
            try bins.withUnsafeBufferPointer { try writer.write(bins: $0) }
            try writer.close()
        } catch { throw AudioDQError.cannotWrite(path: output, reason: "\(error)") }
        try out.commit()
        return Summary(frames: frames, clamped: clamped)
    }
}
