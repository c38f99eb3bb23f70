//! The `gridmap` binary.

/// mimalloc instead of glibc malloc: freed memory goes back to the OS, and the tile cache's churn does not leave
/// fragmented arenas behind (see docs/operations.md, "Memory and the tile cache").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gridmap::cli::run()
}
