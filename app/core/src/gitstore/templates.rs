//! Starter files of each template, embedded in the binary.

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Starters;

/// `(path, bytes)` of every starter file of `template`, sorted by path.
pub fn files(template: &str) -> Option<Vec<(String, Vec<u8>)>> {
    crate::templates::find(template)?;
    let prefix = format!("{template}/");
    let mut files: Vec<_> = Starters::iter()
        .filter_map(|p| {
            p.strip_prefix(&prefix)
                .map(|rest| (rest.to_string(), p.to_string()))
        })
        .filter_map(|(rel, full)| Starters::get(&full).map(|f| (rel, f.data.into_owned())))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}
