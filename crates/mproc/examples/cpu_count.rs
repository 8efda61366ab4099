//! How many processes should a pool start? Python: `os.cpu_count()`.
//! mproc also honours the affinity mask, a cgroup CPU quota and the
//! `MPROC_CPU_COUNT` override.
//!
//! Run with `cargo run -p mproc --example cpu_count`.

fn main() -> mproc::Result<()> {
    println!("usable CPUs: {}", mproc::cpu_count());
    let info = mproc::cpu_info()?;
    println!("logical CPUs (Python's os.cpu_count()): {}", info.logical);
    println!("physical cores: {:?}", info.physical);
    println!(
        "CPUs this process may run on (affinity): {:?}",
        info.affinity
    );
    println!("cgroup CPU quota: {:?}", info.quota);
    println!("decided by: {:?}", info.decided_by);
    Ok(())
}
