import Foundation

// baton-bench: engine benchmark and crash-test child.
//
//   baton-bench engine [--workflows N] [--concurrency C] [--durability full|normal] [--db PATH] [--shards S]
//   baton-bench large [--steps N] [--shape chain|flat]
//   baton-bench crash-child --db PATH --log PATH --generation G [--count N] [--recover-only]
//   baton-bench saga-crash-child --db PATH --log PATH --generation G [--recover-only]

let arguments = Arguments(CommandLine.arguments.dropFirst())
switch arguments.command {
case "engine":
    await EngineBenchmark(arguments).run()
case "large":
    await LargeBenchmark(arguments).run()
case "crash-child":
    await CrashChild(arguments).run()
case "saga-crash-child":
    await SagaCrashChild(arguments).run()
default:
    complain("usage: baton-bench engine|large|crash-child|saga-crash-child [options]")
    exit(2)
}
