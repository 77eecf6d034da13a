import BatonCore
import BatonEngine
import BatonHTTP2
import BatonProto
import BatonRPC
import BatonStore
import Foundation
import Logging
import NIOCore
import NIOPosix

/// The composition root: builds the router (health, reflection, the test service when enabled) and
/// the web routes (UI, event streams, health checks), binds the API port, and shuts down gracefully.
///
/// ```swift
/// let app = try await ServerApplication.start(ServerConfiguration(), group: .singletonMultiThreadedEventLoopGroup)
/// print("listening on \(app.port)")
/// await app.shutdown()
/// ```
public final class ServerApplication: Sendable {
    private let server: RPCServer
    /// Serving status per service (NOT_SERVING once shutdown begins).
    public let health: HealthStatusBoard
    /// The workflow engine.
    public let runtime: WorkflowRuntime
    /// Task queues of external workers (and the in-process activities).
    public let taskQueues: TaskQueueDispatcher
    private let configuration: ServerConfiguration
    private let memoryTrimmer: Task<Void, Never>
    private let streams: EventStreams
    private let observability: ServerObservability
    /// TLS of the API port, when configured.
    public let tls: ServerTLS?

    /// The bound port.
    public var port: Int { server.port }

    private init(server: RPCServer, health: HealthStatusBoard, runtime: WorkflowRuntime,
                 taskQueues: TaskQueueDispatcher, streams: EventStreams, observability: ServerObservability,
                 tls: ServerTLS?, configuration: ServerConfiguration) {
        self.tls = tls
        self.server = server
        self.observability = observability
        self.streams = streams
        self.health = health
        self.runtime = runtime
        self.taskQueues = taskQueues
        self.configuration = configuration
        memoryTrimmer = ProcessMemory.trimPeriodically()
    }

    /// Builds the services and starts listening.
    public static func start(_ configuration: ServerConfiguration, group: any EventLoopGroup,
                             logger: Logger = Logger(label: "baton")) async throws(ServerError) -> ServerApplication {
        ProcessMemory.returnLargeBuffersToTheSystem()
        let tls: ServerTLS?
        do {
            tls = try configuration.tls.map { files throws(TLSFileError) in try ServerTLS(files: files) }
        } catch {
            throw ServerError(.invalidConfiguration, error.description, cause: error)
        }
        let health = HealthStatusBoard()
        let clock = SystemClock(epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let taskQueues = TaskQueueDispatcher(inProcess: InProcessActivities(clock: clock))
        let runtime = try await openRuntime(configuration, clock: clock, taskQueues: taskQueues, logger: logger)
        let observability = await ServerObservability(runtime: runtime, otlpEndpoint: configuration.otlpEndpoint,
                                                      logger: logger, group: group)
        let metrics = observability.metrics
        let storeLog = StoreFailureLog(logger: logger)
        runtime.storeHealth.observe { storeLog.record($0) }
        var router = RPCRouter()
        let authenticator = configuration.auth.map { Authenticator($0, requestsPerSecond: configuration.requestsPerSecond) }
        var workflows = WorkflowService(runtime: runtime)
        workflows.authenticator = authenticator
        workflows.register(into: &router)
        health.set(WorkflowService.name, .serving)
        var workers = WorkerService(queues: taskQueues)
        workers.limits = runtime.limits
        workers.authenticator = authenticator
        workers.register(into: &router)
        health.set(WorkerService.name, .serving)
        AdminService(runtime: runtime, configuration: configuration, startedAt: Date()).register(into: &router)
        health.set(AdminService.name, .serving)
        if configuration.enableTestService {
            InteropTestService.register(into: &router)
            health.set(InteropTestService.name, .serving)
        }
        HealthService.register(into: &router, board: health)
        let index: DescriptorIndex
        do {
            guard let data = Data(base64Encoded: EmbeddedDescriptors.fileDescriptorSetBase64) else {
                throw ServerError(.invalidConfiguration, "the embedded descriptor set is not base64")
            }
            index = try DescriptorIndex(fileDescriptorSet: data)
        } catch {
            throw ServerError(.invalidConfiguration, "the embedded descriptor set is unreadable: \(error)", cause: error)
        }
        let served = RouterServices(router: router, extra: [ReflectionService.v1, ReflectionService.v1alpha])
        ReflectionService.register(into: &router, index: index, services: { served.names })
        health.set(HealthService.name, .serving)
        health.set("", .serving)

        let server: RPCServer
        var rpc = RPCServerConfiguration(router: router)
        rpc.cors = CORSPolicy(allowedOrigins: Set(configuration.corsOrigins))
        let streams = EventStreams(service: workflows)
        rpc.web = WebRoutes(service: workflows, health: health, streams: streams, observability: observability, queues: taskQueues,
                            authenticator: authenticator).handler
        if let authenticator {
            rpc.authorize = { path, metadata in authenticator.authorize(path: path, authorization: metadata["authorization"]) }
        }
        let rejected = RejectedRequestLog(logger: logger)
        rpc.callObserver = { call in
            metrics.record(call)
            if call.code != .ok { rejected.record(call) }
        }
        rpc.maxCallsInProgress = configuration.maxCallsInProgress
        rpc.maxCallsInProgressPerConnection = configuration.maxCallsInProgressPerConnection
        // Advertised above the per-connection call budget, so a call past the budget reaches the server
        // and gets RESOURCE_EXHAUSTED naming streams_per_connection (nghttp2 would reset the connection).
        rpc.http2.maxConcurrentStreams = UInt32(min(65_535, max(1_024, 2 * configuration.maxCallsInProgressPerConnection)))
        rpc.http2.maxConnections = configuration.maxConnections
        // A message carries a payload of up to payload_bytes (as a protobuf Struct, about its JSON size)
        // and its other fields: past gRPC's usual 4 MiB only for a payload limit near it.
        rpc.maxReceiveMessageSize = max(rpc.maxReceiveMessageSize, configuration.limits.payloadBytes + 1024 * 1024)
        rpc.http2.maxBufferedOutbound = configuration.maxUnreadResponseBytes
        rpc.http2.maxBufferedOutboundPerConnection = configuration.maxUnreadResponseBytesPerConnection
        rpc.http2.tls = tls
        do {
            server = try await RPCServer.start(host: configuration.listen.host, port: configuration.listen.port,
                                               configuration: rpc, group: group)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            await runtime.close()
            await observability.shutdown(deadline: .zero)
            throw ServerError(.bindFailed, "cannot listen on \(configuration.listen): the address is already in use "
                              + "(another baton? pick a free port with --listen HOST:PORT)", cause: error)
        } catch {
            await runtime.close()
            await observability.shutdown(deadline: .zero)
            throw ServerError(.bindFailed, "cannot listen on \(configuration.listen): \(error)", cause: error)
        }
        logger.info("API listening", metadata: ["address": "\(configuration.listen.host):\(server.port)"])
        return ServerApplication(server: server, health: health, runtime: runtime, taskQueues: taskQueues,
                                 streams: streams, observability: observability, tls: tls, configuration: configuration)
    }

    private static func openRuntime(_ configuration: ServerConfiguration, clock: SystemClock,
                                    taskQueues: TaskQueueDispatcher, logger: Logger) async throws(ServerError)
        -> WorkflowRuntime {
        guard let directory = configuration.dataDirectory else {
            let runtime = WorkflowRuntime(store: InMemoryWorkflowStore(), clock: clock,
                                          activities: taskQueues.inProcess, dispatcher: taskQueues,
                                          limits: configuration.limits)
            do { try await runtime.recover() } catch {
                throw ServerError(.invalidConfiguration, "the in-memory engine failed to start: \(error)", cause: error)
            }
            return runtime
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ServerError(.invalidConfiguration, "cannot create the data directory '\(directory)': \(error)", cause: error)
        }
        let path = (directory as NSString).appendingPathComponent("baton.sqlite")
        do {
            let opening = ContinuousClock.now
            let runtime = try await WorkflowRuntime.open(
                path: path, durability: configuration.durability, clock: clock, activities: taskQueues.inProcess,
                dispatcher: taskQueues, limits: configuration.limits)
            let took = ContinuousClock.now - opening
            logger.info("history store open", metadata: ["path": "\(path)", "durability": "\(configuration.durability)"])
            let recovered = await runtime.cachedWorkflowCount()
            logger.info("recovered open runs", metadata: [
                "runs": .stringConvertible(recovered),
                "duration_ms": .stringConvertible(Int(took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000)),
            ])
            for run in runtime.quarantinedWorkflows().values.sorted(by: { $0.workflowID < $1.workflowID }) {
                logger.error("workflow quarantined: its stored rows cannot be read; every other run is served",
                             metadata: ["workflow_id": "\(run.workflowID)", "status": "CORRUPTED", "error": "\(run.error)"])
            }
            return runtime
        } catch {
            throw ServerError(.invalidConfiguration, "cannot open the history store '\(path)': \(error.message)", cause: error)
        }
    }

    /// Graceful shutdown: every service turns NOT_SERVING, new calls are refused (GOAWAY), in-flight
    /// calls get the grace period, then connections close.
    public func shutdown() async {
        health.setAllNotServing()
        streams.closeAll()  // event streams never end on their own
        await server.shutdownGracefully(timeout: configuration.shutdownGracePeriod)
        await runtime.close()
        await observability.shutdown()
        memoryTrimmer.cancel()
    }

    /// Re-reads the TLS files (SIGHUP): connections made afterwards get the new certificate; on
    /// failure the previous one stays. Does nothing without TLS.
    public func reloadTLS() throws(TLSFileError) {
        try tls?.reload()
    }

    /// Closes every connection at once (a second shutdown signal).
    public func forceClose() {
        server.closeAllConnections()
    }
}

/// The names reflection lists: the router's services plus reflection itself.
private struct RouterServices: Sendable {
    let names: [String]

    init(router: RPCRouter, extra: [String]) {
        names = router.serviceNames + extra
    }
}
