/// Where front-end verbs send what they have to tell the user besides their result, in the order
/// it happens: warnings about inputs `train`/`eval` skip (`CorpusLoader`), errors of the files a
/// batch conversion could not convert (it goes on with the others). Errors that end a verb are
/// thrown, not sent; the CLI owns the one sink, renders each `Diagnostic` as one line and
/// decides the exit code. Called one diagnostic at a time (batch workers call it serialised).
public typealias DiagnosticSink = @Sendable (Diagnostic) -> Void
