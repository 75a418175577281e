//! The `switchyard` binary; everything lives in the library behind [`switchyard::cli`].

/// Loading a large runbook makes hundreds of thousands of small allocations; mimalloc
/// halves the time glibc's allocator takes for them (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // A run has a thread per busy SSH session, and mimalloc gives each thread its own
    // segments: with transparent huge pages each of them faults in 2 MiB at a time. At
    // 100 hosts that cost ~0.4 CPU-seconds and ~130 MB for nothing (BENCHMARKS.md), and
    // no phase of switchyard gains from huge pages. Same as `MIMALLOC_ALLOW_THP=0`.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_thp_disable(true);
    switchyard::cli::main()
}
