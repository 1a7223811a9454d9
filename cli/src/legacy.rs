//! Spellings of the last release that keep working for this one, rewritten to today's before
//! parsing, with a one-line note on stderr:
//!
//! - `texture --material ...` (the generator driven by flags) is `texture generate ...`;
//! - `texture --exemplar SET ...` is `texture vary SET ...` (and `texture --map ...` alone is
//!   `texture vary --map ...`);
//! - in both, `--pbr heuristic` (or `network`) is `--pbr --method heuristic`.

use std::ffi::OsString;

/// Global flags that take a value: the word after them is not the subcommand.
const GLOBAL_VALUE_FLAGS: &[&str] = &["--device", "--ort-lib", "--models", "--threads"];
/// What may follow `texture` today.
const TEXTURE_ACTIONS: &[&str] = &["generate", "vary", "maps", "remap", "help", "--help", "-h"];

/// `args` (the program name first) in today's spelling, and the note to print when an old
/// spelling was rewritten.
pub fn rewrite(args: Vec<OsString>) -> (Vec<OsString>, Option<String>) {
    let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let Some(at) = subcommand_at(&words).filter(|&i| words[i] == "texture") else { return (args, None) };
    match words.get(at + 1) {
        Some(next) if next.starts_with('-') && !TEXTURE_ACTIONS.contains(&next.as_str()) => {}
        _ => return (args, None),
    }
    let (head, tail) = words.split_at(at + 1);
    let (set, mut rest) = take_flag_value(tail, "--exemplar");
    let vary = set.is_some() || rest.iter().any(|w| w == "--map" || w.starts_with("--map="));
    rest = pbr_method(rest);
    let mut out: Vec<String> = head.to_vec();
    if vary {
        out.push("vary".into());
        out.extend(set);
    } else {
        out.push("generate".into());
    }
    out.extend(rest);
    let note = if vary {
        "note: `texture --exemplar SET` is now `texture vary SET`; the old spelling works for this release only"
    } else {
        "note: `texture --material ...` is now `texture generate --material ...`; the old spelling works for this release only"
    };
    (out.into_iter().map(OsString::from).collect(), Some(note.to_string()))
}

/// Where the subcommand stands: the first word that is neither a flag nor a global flag's value.
fn subcommand_at(words: &[String]) -> Option<usize> {
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        if GLOBAL_VALUE_FLAGS.contains(&w) {
            i += 2;
        } else if w.starts_with('-') {
            i += 1;
        } else {
            return Some(i);
        }
    }
    None
}

/// Removes `flag VALUE` (or `flag=VALUE`) from `words`, returning the value.
fn take_flag_value(words: &[String], flag: &str) -> (Option<String>, Vec<String>) {
    let mut value = None;
    let mut rest = Vec::with_capacity(words.len());
    let mut it = words.iter();
    while let Some(w) = it.next() {
        if value.is_none() && w == flag {
            value = it.next().cloned();
        } else if let Some(v) = w.strip_prefix(flag).and_then(|r| r.strip_prefix('=')).filter(|_| value.is_none()) {
            value = Some(v.to_string());
        } else {
            rest.push(w.clone());
        }
    }
    (value, rest)
}

/// `--pbr METHOD` (the optional value of the old flag) as `--pbr --method METHOD`.
fn pbr_method(words: Vec<String>) -> Vec<String> {
    let methods = ["network", "heuristic"];
    let mut out = Vec::with_capacity(words.len() + 1);
    let mut it = words.into_iter().peekable();
    while let Some(w) = it.next() {
        if let Some(m) = w.strip_prefix("--pbr=") {
            out.extend(["--pbr".to_string(), "--method".into(), m.to_string()]);
        } else if w == "--pbr" && it.peek().is_some_and(|m| methods.contains(&m.as_str())) {
            out.extend(["--pbr".to_string(), "--method".into()]);
            out.extend(it.next());
        } else {
            out.push(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    fn line(args: &[OsString]) -> String {
        args.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn material_flags_become_generate() {
        let (args, note) = rewrite(words("lf --threads 2 texture --material rock --pbr heuristic --out-dir o"));
        assert_eq!(line(&args), "lf --threads 2 texture generate --material rock --pbr --method heuristic --out-dir o");
        assert!(note.unwrap().contains("texture generate"));
    }

    #[test]
    fn exemplar_becomes_vary_with_the_set_first() {
        let (args, note) = rewrite(words("lf texture --count 2 --exemplar sets/rock --pbr=network --out-dir o"));
        assert_eq!(line(&args), "lf texture vary sets/rock --count 2 --pbr --method network --out-dir o");
        assert!(note.unwrap().contains("texture vary"));
        let (args, _) = rewrite(words("lf texture --map color=c.png --out-dir o"));
        assert_eq!(line(&args), "lf texture vary --map color=c.png --out-dir o");
    }

    #[test]
    fn todays_spellings_are_left_alone() {
        for l in ["lf texture generate --material rock", "lf texture --help", "lf texture", "lf denoise --material x"] {
            let (args, note) = rewrite(words(l));
            assert_eq!(line(&args), l);
            assert!(note.is_none());
        }
    }
}
