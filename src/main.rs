//! The `switchyard` binary; everything lives in the library behind [`switchyard::cli`].

/// Loading a large runbook makes hundreds of thousands of small allocations; mimalloc
/// halves the time glibc's allocator takes for them (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    switchyard::cli::main()
}
