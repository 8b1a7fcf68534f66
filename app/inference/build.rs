// The output head's OpenMP shim (src/head/omp.c): see the comment there.
fn main() {
    println!("cargo:rerun-if-changed=src/head/omp.c");
    cc::Build::new()
        .file("src/head/omp.c")
        .flag("-fopenmp")
        .opt_level(2)
        .compile("autocrea_omp");
    // libgomp itself is linked by llama-cpp-sys-2 (its `openmp` feature).
}
