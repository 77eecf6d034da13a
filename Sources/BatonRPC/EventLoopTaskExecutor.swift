import NIOCore

/// Runs a task's jobs on a NIO event loop, so a call's handler runs on its connection's loop: no
/// thread hop between the socket, nghttp2 and the handler (handlers that block must hop off).
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
