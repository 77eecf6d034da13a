import CFuzzerDriver
import Glibc

/// The input function of the running fuzz target (set once by ``runFuzzer(_:)`` before libFuzzer starts).
nonisolated(unsafe) private var target: ((UnsafeRawBufferPointer) -> Void)?

/// Hands `body` to libFuzzer's driver as the function that takes one input, with the process's
/// arguments (corpus directories, `-max_total_time`, …), and exits with the driver's status.
/// SwiftPM gives an executable its own entry point, so a target's main calls this instead of
/// linking libFuzzer's main.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    target = body
    var arguments = CommandLine.argc
    var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&arguments, &values) { data, size in
        target?(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    })
}
