/// `audiodq eval`: loads the model, checks it against the request (method) and the data (scale),
/// then scores the corpus with Dequantization's `Evaluator`. The model is loaded and checked
/// before any audio is read; files that cannot be read are skipped with a warning to
/// `diagnostics`.
public enum EvalFrontend {
    /// Throws `.wrongMethod` (kind `.model`) when `options.method` is given and differs from the
    /// model's, `.inputMismatch` (kind `.model`) when the data's input scale (`FlowInput`: code or
    /// linear domain, the law in the code domain) is not the one the model was trained on. Linear
    /// PCM of any K and G.711 in the linear domain are one scale: each file is scored in its own
    /// cells (its own W).
    public static func run(_ options: EvalOptions, diagnostics: DiagnosticSink) throws -> Evaluator.Result {
        let model = try DequantModel.load(path: options.modelPath)
        if let method = options.method, method != model.method {
            throw DequantizationError.wrongMethod(path: options.modelPath, expected: method, found: model.method)
        }
        let (corpus, _) = try CorpusLoader.load(options.data, quantizer: options.quantizer, domain: options.domain,
                                                diagnostics: diagnostics)
        try FlowInput.requireSame(model: model.input, data: corpus.input, path: options.modelPath)
        return try Evaluator.evaluate(model: model, corpus: corpus, importanceSamples: options.importanceSamples,
                                      seed: options.seed, threads: options.threads)
    }
}
