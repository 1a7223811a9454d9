//! Pruning the GPU code (`.nv_fatbin`) of ONNX Runtime's CUDA provider to one architecture, for
//! the GPU kit (`gpu_kit.rs`).
//!
//! `.nv_fatbin` is a run of fat binaries, one per CUDA source file of the provider, each a header
//! (magic `0xBA55ED50`, version, header size, size of its entries) and its entries: a header
//! (kind, header size, payload size, ..., the SM architecture at byte 28) and a payload, the
//! cubin, which ONNX Runtime 1.31.1's wheel stores zstd-compressed. The CUDA runtime picks, per
//! source file, the entry built for the device's architecture and loads it when one of its
//! kernels first runs (lazy loading, CUDA 12.2+).
//!
//! Pruning zeroes payloads and leaves every header and offset as it was, so the library's layout
//! is unchanged and the zeros compress to nothing: every entry of another architecture, and at
//! the kept architecture the source files whose kernels are all in families no model of ours can
//! reach (CUTLASS GEMMs, flash attention, mixture-of-experts and LLM kernels; see [`unreachable`]).
//! Measured on 1.31.1: 218 MB of entries, 77 MB of them sm_90 in 600 files; 10 MB kept.

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection};

const FATBIN_MAGIC: u32 = 0xBA55_ED50;
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// The largest cubin we decompress to read its kernel names (the largest seen is 3 MB).
const MAX_CUBIN: usize = 256 << 20;

/// What pruning kept and cleared.
#[derive(Debug, Default, PartialEq)]
pub struct Pruned {
    /// Fat binaries (CUDA source files) in the library.
    pub files: usize,
    /// Of those, the ones whose entry for the architecture was kept.
    pub kept_files: usize,
    /// Payload bytes kept (as stored, compressed).
    pub kept_bytes: u64,
    /// Payload bytes zeroed.
    pub zeroed_bytes: u64,
}

/// Zeroes, in the shared library `library`, every `.nv_fatbin` payload but those for `arch`
/// (e.g. 90 for sm_90) whose kernels a model of ours may run.
pub fn prune(library: &mut [u8], arch: u32) -> Result<Pruned> {
    let (start, size) = {
        let elf = object::File::parse(&*library).context("not an ELF shared library")?;
        let section = elf.section_by_name(".nv_fatbin").context("the library has no .nv_fatbin section")?;
        let (offset, size) = section.file_range().context(".nv_fatbin has no data in the file")?;
        (offset as usize, size as usize)
    };
    let section = library.get_mut(start..start + size).context(".nv_fatbin lies outside the file")?;
    prune_section(section, arch)
}

/// [`prune`] on the bytes of the `.nv_fatbin` section.
pub fn prune_section(section: &mut [u8], arch: u32) -> Result<Pruned> {
    let mut pruned = Pruned::default();
    let mut pos = 0;
    while pos + 16 <= section.len() {
        if u32_at(section, pos) != FATBIN_MAGIC {
            pos = (pos + 8) & !7; // fat binaries start 8-byte aligned, padding between them
            continue;
        }
        let header = usize::from(u16_at(section, pos + 6));
        let end = pos + header + u64_at(section, pos + 8) as usize;
        if end > section.len() {
            bail!("a fat binary at {pos:#x} runs past the end of .nv_fatbin");
        }
        pruned.files += 1;
        let mut kept = false;
        let mut entry = pos + header;
        while entry + 32 <= end {
            let entry_header = u32_at(section, entry + 4) as usize;
            let payload = entry + entry_header..entry + entry_header + u64_at(section, entry + 8) as usize;
            if payload.end > end {
                bail!("an entry at {entry:#x} runs past its fat binary");
            }
            // The stored length of a compressed cubin (the payload is padded after it).
            let stored = match u32_at(section, entry + 16) as usize {
                0 => payload.len(),
                n => n.min(payload.len()),
            };
            let cubin = &section[payload.start..payload.start + stored];
            let keep = u32_at(section, entry + 28) == arch && !unreachable(&kernel_names(cubin)?);
            let bytes = payload.len() as u64;
            if keep {
                pruned.kept_bytes += bytes;
                kept = true;
            } else {
                section[payload.clone()].fill(0);
                pruned.zeroed_bytes += bytes;
            }
            entry = payload.end;
        }
        pruned.kept_files += usize::from(kept);
        pos = end;
    }
    Ok(pruned)
}

/// Whether every kernel of a source file belongs to a family the CUDA provider only runs for
/// operators our models do not have (contrib LLM operators: CUTLASS GEMMs for quantised and
/// mixture-of-experts matrix products, flash attention). A file with no kernel names is kept.
pub fn unreachable(kernels: &[String]) -> bool {
    const FAMILIES: [&str; 4] = ["_ZN7cutlass", "_ZN11onnxruntime5flash", "_ZN11onnxruntime3llm", "_ZN9fused_moe"];
    !kernels.is_empty() && kernels.iter().all(|k| FAMILIES.iter().any(|f| k.starts_with(f)))
}

/// The kernel names of a cubin payload (zstd-compressed or plain): its `.text.<name>` sections.
fn kernel_names(payload: &[u8]) -> Result<Vec<String>> {
    let cubin = if payload.starts_with(&ZSTD_MAGIC) {
        zstd::bulk::decompress(payload, MAX_CUBIN).context("a zstd-compressed cubin did not decompress")?
    } else {
        payload.to_vec()
    };
    let mut names = Vec::new();
    for (at, _) in cubin.windows(6).enumerate().filter(|(_, w)| *w == b".text.") {
        let name: Vec<u8> = cubin[at + 6..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'$')
            .copied()
            .collect();
        if !name.is_empty() {
            names.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fat binary with one entry per (arch, cubin) pair, as the CUDA toolchain lays them out.
    fn fat_binary(entries: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (arch, payload) in entries {
            let mut header = vec![0u8; 64];
            header[0..2].copy_from_slice(&2u16.to_le_bytes()); // kind: cubin
            header[4..8].copy_from_slice(&64u32.to_le_bytes());
            header[8..16].copy_from_slice(&(payload.len() as u64).to_le_bytes());
            header[16..20].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            header[28..32].copy_from_slice(&arch.to_le_bytes());
            body.extend(header);
            body.extend(payload);
        }
        let mut out = Vec::new();
        out.extend(FATBIN_MAGIC.to_le_bytes());
        out.extend(1u16.to_le_bytes());
        out.extend(16u16.to_le_bytes());
        out.extend((body.len() as u64).to_le_bytes());
        out.extend(body);
        while out.len() % 8 != 0 {
            out.push(0);
        }
        out
    }

    fn cubin(kernels: &[&str]) -> Vec<u8> {
        let mut b = b"\x7fELF....".to_vec();
        for k in kernels {
            b.extend(format!(".text.{k}\0").bytes());
        }
        b
    }

    #[test]
    fn keeps_the_architecture_and_reachable_kernels_only() {
        let core = cubin(&["_ZN11onnxruntime4cuda12_ConcatKernelIfEEvv"]);
        let compressed = zstd::bulk::compress(&core, 3).unwrap();
        let gemm = cubin(&["_ZN7cutlass13device_kernelINS_4gemmEEvv", "_ZN11onnxruntime5flash9fwd_kernelEv"]);
        let mut section = fat_binary(&[(80, core.clone()), (90, compressed.clone())]);
        section.extend(fat_binary(&[(90, gemm.clone()), (120, gemm.clone())]));
        let before = section.len();
        let pruned = prune_section(&mut section, 90).unwrap();
        assert_eq!(section.len(), before, "the layout must not move");
        assert_eq!(pruned.files, 2);
        assert_eq!(pruned.kept_files, 1);
        assert_eq!(pruned.kept_bytes, compressed.len() as u64);
        assert_eq!(pruned.zeroed_bytes, (core.len() + 2 * gemm.len()) as u64);
        let kept = section.windows(compressed.len()).any(|w| w == compressed.as_slice());
        assert!(kept, "the sm_90 core kernels were cleared");
        assert!(!section.windows(6).any(|w| w == b"cutlas"), "a CUTLASS cubin survived");
    }

    #[test]
    fn a_mixed_or_unnamed_file_is_kept() {
        assert!(!unreachable(&[]));
        assert!(!unreachable(&["_ZN7cutlass1xEv".into(), "_ZN11onnxruntime4cuda1yEv".into()]));
        assert!(unreachable(&["_ZN7cutlass1xEv".into(), "_ZN9fused_moe1zEv".into()]));
    }

    #[test]
    fn a_truncated_fat_binary_is_an_error_not_a_panic() {
        let mut section = fat_binary(&[(90, cubin(&["k"]))]);
        section.truncate(section.len() - 16);
        assert!(prune_section(&mut section, 90).is_err());
    }
}
