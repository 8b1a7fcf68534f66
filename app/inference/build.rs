// The output head: which CPU features its kernel may use, and its OpenMP
// shim (src/head/omp.c: see the comment there).
fn main() {
    // The output head's kernel needs AVX-512 (F, BW, VNNI) and F16C; one cfg
    // names that set for the code (src/head/kernel.rs).
    println!("cargo::rustc-check-cfg=cfg(output_head_kernel)");
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let has = |f: &str| features.split(',').any(|x| x == f);
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64")
        && ["avx512f", "avx512bw", "avx512vnni", "f16c"]
            .iter()
            .all(|f| has(f))
    {
        println!("cargo:rustc-cfg=output_head_kernel");
    }
    println!("cargo:rerun-if-changed=src/head/omp.c");
    cc::Build::new()
        .file("src/head/omp.c")
        .flag("-fopenmp")
        .opt_level(2)
        .compile("autocrea_omp");
    // libgomp itself is linked by llama-cpp-sys-2 (its `openmp` feature).
}
