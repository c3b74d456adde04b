#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Ctrl-C for `train`: SIGINT sets a flag that the training loop polls once per step (it then
/// saves a checkpoint and returns). The handler only stores to the flag, which is
/// async-signal-safe because the flag exists before the handler is installed.
enum InterruptHandler {
    /// Set by the SIGINT handler.
    static let flag = Atomic<Bool>(false)

    /// Clears the flag, installs the handler and unblocks SIGINT. Swift initialises a static
    /// lazily, on first access (swift_once, which may take a lock): touching `flag` here first
    /// means the handler never runs an initialiser. A parent may have started us with SIGINT
    /// blocked (the mask is inherited), hence the unblock.
    static func install() {
        flag.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in InterruptHandler.flag.store(true, ordering: .relaxed) }
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Whether SIGINT arrived since `install()`.
    @Sendable static func interrupted() -> Bool { flag.load(ordering: .relaxed) }
}
