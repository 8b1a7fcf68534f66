//! The engine with the real small model (models/fetch.sh installs it) and
//! with bad files.

use autocrea_inference::{Engine, Manifest, ModelError, Sampling};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn repo_manifest() -> Manifest {
    let path = Path::new(&manifest_dir()).join("../../models/models.toml");
    Manifest::load(&path).expect("models/models.toml is valid")
}

/// A manifest in a temporary folder whose one model is `file` with `body`.
fn manifest_with(dir: &Path, file: &str, extra: &str) -> Manifest {
    let path = dir.join("models.toml");
    std::fs::write(&path, format!("[[model]]\nid = \"m\"\nfile = \"{file}\"\nchat_template = \"gemma\"\ndefault = true\n{extra}")).unwrap();
    Manifest::load(&path).unwrap()
}

fn real_model() -> PathBuf {
    let m = repo_manifest();
    let path = m.path_of(m.default_model());
    assert!(
        path.exists(),
        "run models/fetch.sh first: {}",
        path.display()
    );
    path
}

#[test]
fn manifest_has_one_default_and_a_joxcoder_entry() {
    let m = repo_manifest();
    assert_eq!(m.default_model().id, "gemma-3-270m");
    assert!(m.get("joxcoder").is_some());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("models.toml");
    std::fs::write(
        &path,
        "[[model]]\nid = \"a\"\nfile = \"../etc/passwd\"\ndefault = true\n",
    )
    .unwrap();
    assert!(Manifest::load(&path)
        .unwrap_err()
        .to_string()
        .contains("file name"));
    std::fs::write(&path, "[[model]]\nid = \"a\"\nfile = \"a.gguf\"\n").unwrap();
    assert!(Manifest::load(&path)
        .unwrap_err()
        .to_string()
        .contains("exactly one"));
}

#[test]
fn bad_missing_and_truncated_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest_with(dir.path(), "absent.gguf", "");
    let err = Engine::load(&m, m.default_model()).err().unwrap();
    assert!(
        matches!(err, ModelError::Missing { .. }) && err.to_string().contains("absent.gguf"),
        "{err}"
    );

    std::fs::write(dir.path().join("text.gguf"), "this is not a model").unwrap();
    let m = manifest_with(dir.path(), "text.gguf", "");
    let err = Engine::load(&m, m.default_model()).err().unwrap();
    assert!(
        matches!(err, ModelError::NotGguf { .. }) && err.to_string().contains("text.gguf"),
        "{err}"
    );

    // The first 4 MiB of the real model: a valid header, most of the file missing.
    let head: Vec<u8> = std::fs::read(real_model())
        .unwrap()
        .into_iter()
        .take(4 << 20)
        .collect();
    std::fs::write(dir.path().join("cut.gguf"), &head).unwrap();
    let with_sha = format!(
        "sha256 = \"{}\"\n",
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    );
    let m = manifest_with(dir.path(), "cut.gguf", &with_sha);
    let err = Engine::load(&m, m.default_model()).err().unwrap();
    assert!(matches!(err, ModelError::ChecksumMismatch { .. }), "{err}");
    let m = manifest_with(dir.path(), "cut.gguf", "");
    let err = Engine::load(&m, m.default_model()).err().unwrap();
    assert!(
        matches!(err, ModelError::LoadFailed { .. }) && err.to_string().contains("cut.gguf"),
        "without a checksum llama.cpp refuses it: {err}"
    );
}

#[test]
fn the_small_model_generates_deterministically_with_its_template() {
    let m = repo_manifest();
    let engine = Arc::new(Engine::load(&m, m.default_model()).expect("the small model loads"));
    let prompt = engine
        .chat_prompt(&[("user".into(), "Write a haiku about the sea.".into())])
        .unwrap();
    assert!(
        prompt.contains("<start_of_turn>user") && prompt.ends_with("<start_of_turn>model\n"),
        "gemma template: {prompt:?}"
    );
    let greedy = Sampling::default();
    let a = engine.generate(&prompt, 24, 2, &greedy).unwrap();
    let b = engine.generate(&prompt, 24, 2, &greedy).unwrap();
    assert_eq!(a, b, "greedy decoding is deterministic");
    assert!(
        a.completion_tokens > 0 && !a.text.trim().is_empty(),
        "{a:?}"
    );
    let seeded = Sampling {
        temperature: Some(0.8),
        top_p: Some(0.95),
        seed: Some(42),
        ..Default::default()
    };
    assert_eq!(
        engine.generate(&prompt, 16, 2, &seeded).unwrap(),
        engine.generate(&prompt, 16, 2, &seeded).unwrap(),
        "same seed, same text"
    );

    // Stop strings end the text before them, streamed or not.
    let middle = a
        .text
        .char_indices()
        .map(|(i, _)| i)
        .nth(a.text.chars().count() / 2)
        .unwrap();
    let cut_at: String = a.text[middle..].chars().take(3).collect();
    let stop = Sampling {
        stop: vec![cut_at.clone()],
        ..Default::default()
    };
    let mut streamed = String::new();
    let stopped = engine
        .generate_with(&prompt, 24, 2, &stop, |piece| {
            streamed.push_str(piece);
            true
        })
        .unwrap();
    assert_eq!(stopped.finish_reason, "stop");
    assert_eq!(
        stopped.text,
        a.text[..a.text.find(&cut_at).unwrap()],
        "stops before {cut_at:?}"
    );
    assert_eq!(
        streamed, stopped.text,
        "the stop string never leaks into the stream"
    );

    // A banned end of generation gives exactly max_tokens (fixed-length outputs for benchmarks).
    let ban = engine.sampling_without_end();
    let long = engine.generate(&prompt, 64, 2, &ban).unwrap();
    assert_eq!((long.completion_tokens, long.finish_reason), (64, "length"));

    let bad = Manifest {
        models: vec![autocrea_inference::ModelSpec {
            chat_template: Some("no-such-template".into()),
            ..m.default_model().clone()
        }],
        dir: m.dir.clone(),
    };
    let err = Engine::load(&bad, &bad.models[0]).err().unwrap();
    assert!(matches!(err, ModelError::UnknownTemplate { .. }), "{err}");
}

/// The package folder of this checkout, read when the test runs: the build
/// cache is shared between checkouts, so a path baked in at compile time may
/// name another one.
fn manifest_dir() -> String {
    std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR")
}
