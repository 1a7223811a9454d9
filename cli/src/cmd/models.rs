//! `latentforge models`: the bundled models, each file checked against its manifest.

use anyhow::Result;
use latentforge::infer::ModelStore;

use crate::{GlobalArgs, EXIT_SETUP};

pub fn run(g: &GlobalArgs) -> Result<u8> {
    let store = ModelStore::locate(g.models.as_deref())?;
    println!("models in {}", store.dir.display());
    let mut bad = 0;
    for entry in store.list() {
        match entry.and_then(|e| e.verify_file().map(|_| e)) {
            Ok(e) => {
                let m = &e.manifest;
                let inputs: Vec<String> = m.inputs.iter().map(|i| format!("{}{:?}", i.name, i.shape)).collect();
                println!(
                    "  {:<20} {:<8} v{:<6} {}  in: {}",
                    m.name,
                    m.task,
                    m.version,
                    m.description,
                    inputs.join(", ")
                );
            }
            Err(e) => {
                bad += 1;
                println!("  BROKEN: {}", latentforge::error_chain(&e));
            }
        }
    }
    Ok(if bad > 0 { EXIT_SETUP } else { 0 })
}
