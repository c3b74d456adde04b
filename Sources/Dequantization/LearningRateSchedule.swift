/// How the learning rate moves over a training run of `steps` steps (`Trainer.Hyperparameters`).
public enum LearningRateSchedule: String, Sendable, CaseIterable, Codable {
    /// The rate stays `learningRate` (after any warm-up): the reference protocol.
    case constant
    /// Cosine decay to 0 at step `steps` (`Adam.Options.decaySteps` = steps):
    /// lr_t = lr · ½(1 + cos(π(t − 1)/steps)). A resumed run keeps the schedule when it is given
    /// the same `steps`.
    case cosine
}
