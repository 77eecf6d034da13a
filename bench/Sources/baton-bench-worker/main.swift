import BatonClient
import Foundation

/// An external worker process for `bench/run worker`: serves activities a, b and c (each returns its
/// input) on task queue `bench` with BatonWorker until SIGTERM or SIGINT, then stops gracefully.
///
///     baton-bench-worker --address 127.0.0.1:7400 --concurrency 32 [--hand-off 0]
@main
struct BenchWorker {
    static func main() async {
        var address = "127.0.0.1:7400"
        var concurrency = 32
        var handOff = true
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let name = arguments.next() {
            switch (name, arguments.next()) {
            case ("--address", let value?): address = value
            case ("--concurrency", let value?): concurrency = Int(value) ?? concurrency
            case ("--hand-off", let value?): handOff = value != "0"
            default:
                FileHandle.standardError.write(Data("baton-bench-worker: unknown option \(name)\n".utf8))
                exit(2)
            }
        }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            FileHandle.standardError.write(Data("baton-bench-worker: --address must be HOST:PORT\n".utf8))
            exit(2)
        }
        let client = BatonClient(host: String(address[..<colon]), port: port)
        let worker = BatonWorker(client: client, taskQueue: "bench", maxConcurrent: concurrency, pollWait: .seconds(5),
                                 handOff: handOff)
        for activity in ["a", "b", "c"] { worker.register(activity) { $0.input } }
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let stops = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { worker.stop() }
            source.resume()
            return source
        }
        await worker.run()
        stops.forEach { $0.cancel() }
        await client.close()
    }
}
