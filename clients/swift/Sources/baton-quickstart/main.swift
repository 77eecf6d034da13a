// The Swift quickstart: registers a three-step definition, serves its activities with BatonWorker,
// starts one run, prints its progress as it streams and its output. Exit 0 only when it COMPLETED.
//
//     BATON_ADDRESS=127.0.0.1:7400 swift run baton-quickstart
import BatonClient
import BatonProto
import Foundation
import SwiftProtobuf

let definition = """
    name: swift_quickstart
    defaults: { task_queue: swift-quickstart, retry: { initial_interval: 200ms, maximum_attempts: 3 } }
    steps:
      greet: { activity: greet, input: { name: "${input.name}" } }
      shout: { activity: shout, depends_on: [greet], input: { text: "${steps.greet.output.text}" } }
      count: { activity: count, depends_on: [shout], input: { text: "${steps.shout.output.text}" } }
    output: { text: "${steps.shout.output.text}", length: "${steps.count.output.n}" }
    """

func text(_ value: Google_Protobuf_Value, _ key: String) -> String {
    value.structValue.fields[key]?.stringValue ?? ""
}

let address = ProcessInfo.processInfo.environment["BATON_ADDRESS"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:7400"
guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
    FileHandle.standardError.write(Data("quickstart: BATON_ADDRESS must be HOST:PORT, got '\(address)'\n".utf8))
    exit(2)
}
let client = BatonClient(host: String(address[..<colon]), port: port)
let worker = BatonWorker(client: client, taskQueue: "swift-quickstart", maxConcurrent: 4, pollWait: .seconds(2))
worker.register("greet") { context in
    .init(structValue: .init(fields: ["text": .init(stringValue: "hello, \(text(context.input, "name"))")]))
}
worker.register("shout") { context in
    .init(structValue: .init(fields: ["text": .init(stringValue: text(context.input, "text").uppercased() + "!")]))
}
worker.register("count") { context in
    .init(structValue: .init(fields: ["n": .init(numberValue: Double(text(context.input, "text").count))]))
}
let serving = Task { await worker.run() }

var status: Int32 = 1
do {
    let registered = try await client.registerDefinition(source: definition)
    print("registered \(registered.definition.name) v\(registered.definition.version)")
    let run = try await client.startWorkflow(.with {
        $0.definition = "swift_quickstart"
        $0.input = .init(structValue: .init(fields: ["name": .init(stringValue: "Swift")]))
    })
    print("started \(run.workflowID) (run \(run.runID))")
    var last = ""
    for try await progress in client.streamProgress(run.workflowID, runID: run.runID) {
        let line = "progress \(Int(progress.percentage))% running=\(progress.runningSteps.joined(separator: ","))"
        if line != last { print(line) }
        last = line
    }
    let closed = try await client.awaitWorkflow(run.workflowID, runID: run.runID, timeout: .seconds(30)).workflow
    if closed.info.status == .completed {
        print("output \(BatonClient.jsonText(closed.output))")
        status = 0
    } else {
        FileHandle.standardError.write(Data("quickstart: the run ended \(closed.info.status): \(closed.failure.message)\n".utf8))
    }
} catch {
    FileHandle.standardError.write(Data("quickstart: \(error)\n".utf8))
}
worker.stop()
await serving.value
await client.close()
exit(status)
