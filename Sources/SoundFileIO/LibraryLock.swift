import Synchronization

/// libsndfile reports open errors through a global (`sf_strerror(NULL)`), so every open that may
/// fail runs under this lock.
let sndfileOpenLock = Mutex<Void>(())
