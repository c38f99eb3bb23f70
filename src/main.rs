//! The `gridmap` binary.

fn main() -> std::process::ExitCode {
    gridmap::cli::run()
}
