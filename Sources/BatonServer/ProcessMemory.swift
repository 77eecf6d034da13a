#if canImport(Glibc)
import CMalloc
#endif

/// How the server's process uses the C allocator.
enum ProcessMemory {
    /// Large buffers (response messages, history pages) are mapped on their own and unmapped when
    /// freed, so memory a departed client held returns to the system instead of staying resident.
    /// glibc otherwise raises its mmap threshold after the first large free (up to 32 MiB) and keeps
    /// later large buffers in the heap, where freed space is rarely given back.
    static func returnLargeBuffersToTheSystem() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        _ = mallopt(M_TRIM_THRESHOLD, 1024 * 1024)
        #endif
    }

    /// Gives free memory inside the allocator's heaps back to the system (whole free pages, in every
    /// arena): what many small allocations of a burst leave behind once they are freed.
    static func trimFreeMemory() {
        #if canImport(Glibc)
        _ = malloc_trim(0)
        #endif
    }

    /// Trims free memory every `interval` until the returned task is cancelled.
    static func trimPeriodically(every interval: Duration = .seconds(10)) -> Task<Void, Never> {
        Task.detached(priority: .background) {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                trimFreeMemory()
            }
        }
    }
}
