// swift-tools-version:6.1
import PackageDescription

/// Development aid: `BATON_ENGINE_ONLY=1 swift test --scratch-path .build-engine` builds only the
/// I/O-free domain, the store and their tests, so engine work does not wait on the transport.
let engineOnly = Context.environment["BATON_ENGINE_ONLY"] != nil
let engineTargets: Set<String> = [
    "CSQLite", "BatonCore", "BatonEngine", "BatonProto", "BatonCodec", "BatonStore", "baton-bench",
    "BatonCoreTests", "BatonEngineTests", "BatonCodecTests", "BatonStoreTests",
]

let package = Package(
    name: "Baton",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "baton", targets: ["baton"]),
        .library(name: "BatonClient", targets: ["BatonClient"]),
        .executable(name: "baton-quickstart", targets: ["baton-quickstart"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
    ],
    targets: [
        // System libraries (Debian: libnghttp2-dev, libsqlite3-dev).
        .systemLibrary(name: "CNGHTTP2", pkgConfig: "libnghttp2", providers: [.apt(["libnghttp2-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Domain: no I/O.
        .target(name: "BatonCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "BatonEngine",
            dependencies: [
                "BatonCore",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        // Storage: the protobuf encodings of history and snapshots, and the SQLite store.
        .target(
            name: "BatonCodec",
            dependencies: [
                "BatonCore", "BatonEngine", "BatonProto", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(name: "BatonStore", dependencies: ["BatonCore", "BatonEngine", "BatonCodec", "CSQLite"]),

        // Transport.
        .target(
            name: "BatonHTTP2",
            dependencies: [
                "CNGHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        .target(
            name: "BatonRPC",
            dependencies: [
                "BatonHTTP2", "BatonProto", "CZlib",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "BatonProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["GENERATED_FROM"]
        ),

        // Composition.
        .target(
            name: "BatonServer",
            dependencies: [
                "BatonRPC", "BatonProto", "BatonHTTP2", "BatonCore", "BatonEngine", "BatonCodec", "BatonStore",
                "CMalloc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "BatonClient",
            dependencies: [
                "BatonRPC", "BatonHTTP2", "BatonProto",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "baton",
            dependencies: [
                "BatonServer", "BatonClient", "BatonStore", "BatonCore", "BatonProto", "BatonRPC", "BatonHTTP2",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "baton-quickstart",
            dependencies: ["BatonClient", "BatonProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "clients/swift/Sources/baton-quickstart"
        ),
        .executableTarget(
            name: "baton-loadgen",
            dependencies: ["BatonClient", "BatonProto"],
            path: "bench/Sources/baton-loadgen"
        ),
        .executableTarget(
            name: "baton-bench-worker",
            dependencies: ["BatonClient"],
            path: "bench/Sources/baton-bench-worker"
        ),
        .executableTarget(
            name: "baton-bench",
            // The full build adds the server's observability (`engine --observe`); engine-only builds leave it out.
            dependencies: ["BatonCore", "BatonEngine", "BatonStore"] + (engineOnly ? [] : [
                "BatonServer", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
            path: "bench/Sources/baton-bench"
        ),

        // Tests mirror Sources.
        .testTarget(name: "BatonCoreTests", dependencies: ["BatonCore"]),
        .testTarget(name: "BatonEngineTests", dependencies: ["BatonCore", "BatonEngine", "BatonCodec"]),
        .testTarget(name: "BatonCodecTests", dependencies: ["BatonCore", "BatonEngine", "BatonCodec", "BatonProto"]),
        .testTarget(name: "BatonStoreTests", dependencies: ["BatonCore", "BatonEngine", "BatonCodec", "BatonStore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(
            name: "BatonHTTP2Tests",
            dependencies: [
                "BatonHTTP2",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BatonRPCTests",
            dependencies: [
                "BatonRPC", "BatonProto", "BatonHTTP2", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BatonServerTests",
            dependencies: [
                "BatonServer", "BatonClient", "BatonProto", "BatonRPC",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

if engineOnly {
    package.targets.removeAll { !engineTargets.contains($0.name) }
    package.products.removeAll()
}

/// `scripts/fuzz` sets BATON_FUZZ=1: libFuzzer targets (built with `-sanitize=fuzzer,address
/// -enable-testing` into `.build-fuzz`), one per input parser from outside; each main hands its
/// input function to libFuzzer's driver (SwiftPM gives executables their own entry point).
if Context.environment["BATON_FUZZ"] != nil {
    let nio: [Target.Dependency] = [
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
    ]
    package.targets += [
        .systemLibrary(name: "CFuzzerDriver", path: "fuzz/Sources/CFuzzerDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzerDriver"], path: "fuzz/Sources/FuzzDriver"),
        .executableTarget(name: "fuzz-definition", dependencies: ["BatonCore", "FuzzDriver"],
                          path: "fuzz/Sources/fuzz-definition"),
        .executableTarget(name: "fuzz-expression", dependencies: ["BatonCore", "FuzzDriver"],
                          path: "fuzz/Sources/fuzz-expression"),
        .executableTarget(name: "fuzz-grpc-deframer", dependencies: ["BatonRPC", "FuzzDriver"] + nio,
                          path: "fuzz/Sources/fuzz-grpc-deframer"),
        .executableTarget(name: "fuzz-web-framing", dependencies: ["BatonRPC", "BatonHTTP2", "FuzzDriver"] + nio,
                          path: "fuzz/Sources/fuzz-web-framing"),
        .executableTarget(name: "fuzz-http1", dependencies: ["BatonRPC", "BatonHTTP2", "FuzzDriver"] + nio,
                          path: "fuzz/Sources/fuzz-http1"),
    ]
}
