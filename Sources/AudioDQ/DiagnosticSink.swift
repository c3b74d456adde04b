/// Where front-end verbs send what they have to tell the user besides their result, in the order
/// it happens: today, warnings about inputs they skip. Errors that end a verb are thrown, not
/// sent; the CLI owns the one sink, renders each `Diagnostic` as one line and decides the exit
/// code. Called from the verb's own thread, one diagnostic at a time.
public typealias DiagnosticSink = @Sendable (Diagnostic) -> Void
