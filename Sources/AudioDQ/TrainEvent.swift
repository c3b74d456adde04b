/// What `TrainFrontend.run` reports while it runs, in order: `loaded` once, then `progress`
/// after every step and `checkpoint` after every save. Warnings go to the diagnostics sink.
public enum TrainEvent: Sendable {
    /// The corpus is read: `usable` of `sequences` are at least one segment long
    /// (`skippedShort` are not); `skippedFiles` could not be read; `samples` in all sequences.
    case loaded(sequences: Int, usable: Int, skippedShort: Int, skippedFiles: Int, samples: Int)
    case progress(TrainProgress)
    case checkpoint(step: Int, path: String)
}
