// rust-embed needs the site folder to exist at compile time; an empty one
// compiles (the server then warns that the UI bundle is missing).
fn main() {
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../site");
    let _ = std::fs::create_dir_all(site.join("pkg"));
    println!("cargo:rerun-if-changed=../../site");
}
