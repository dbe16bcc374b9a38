//! Compiles every `.proto` file under `proto/` with protox (pure Rust), so no system
//! `protoc` is needed, and generates prost types into OUT_DIR: one file per package.
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from("proto");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read proto/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed=proto");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let fds = protox::compile(&files, [&dir]).expect("compile .proto files");
    prost_build::Config::new()
        .bytes(["."])
        .compile_fds(fds)
        .expect("generate Rust from .proto files");
}
