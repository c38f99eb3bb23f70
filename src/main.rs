//! The `gridmap` binary.

/// mimalloc instead of glibc malloc: freed memory goes back to the OS, and the tile cache's churn does not leave
/// fragmented arenas behind (see README "Benchmarks", soak).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gridmap::cli::run()
}
