//! `denoise --timings`: where the time of each frame went, stage by stage, and for a batch the
//! median of each stage over its frames, printed on stderr (stdout stays the results).

use latentforge::denoise::StageTimes;

/// The stage table so far.
#[derive(Default)]
pub struct Timings {
    /// Process start to the first frame: flags, ONNX Runtime, model manifests.
    setup_ms: f64,
    frames: Vec<(StageTimes, f64)>,
}

impl Timings {
    pub fn new(setup_ms: f64) -> Timings {
        Timings { setup_ms, frames: Vec::new() }
    }

    /// One frame's stages and its whole time (what no stage holds is `other`).
    pub fn add(&mut self, times: StageTimes, total_ms: f64) -> String {
        self.frames.push((times, total_ms));
        let stages: Vec<String> = times.stages().iter().map(|(name, ms)| format!("{name} {ms:.0}")).collect();
        format!("  stages (ms): {}, other {:.0}, total {total_ms:.0}", stages.join(", "), other(&times, total_ms))
    }

    /// The table: set-up once, then each stage's median over the frames (and its share).
    pub fn table(&self) -> String {
        let n = self.frames.len();
        let mut rows =
            vec![format!("stage       median ms   share   (over {n} frame{})", if n == 1 { "" } else { "s" })];
        rows.push(format!("set-up      {:>9.0}           (once: ONNX Runtime, manifests)", self.setup_ms));
        let total = median(self.frames.iter().map(|f| f.1).collect());
        let mut column = |name: &str, values: Vec<f64>| {
            let m = median(values);
            rows.push(format!("{name:<11} {m:>9.0}   {:>4.0} %", 100.0 * m / total.max(1e-9)));
        };
        for (k, (name, _)) in StageTimes::default().stages().iter().enumerate() {
            column(name, self.frames.iter().map(|f| f.0.stages()[k].1).collect());
        }
        column("other", self.frames.iter().map(|f| other(&f.0, f.1)).collect());
        rows.push(format!("frame       {total:>9.0}"));
        rows.join("\n")
    }
}

fn other(times: &StageTimes, total_ms: f64) -> f64 {
    (total_ms - times.total()).max(0.0)
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_each_stage_median_and_what_no_stage_holds() {
        let mut t = Timings::new(120.0);
        for (infer, total) in [(100.0, 150.0), (300.0, 350.0), (200.0, 260.0)] {
            let times = StageTimes { read: 10.0, infer, write: 20.0, ..Default::default() };
            t.add(times, total);
        }
        let table = t.table();
        assert!(table.contains("over 3 frames"), "{table}");
        assert!(table.lines().any(|l| l.starts_with("infer") && l.contains(" 200 ")), "{table}");
        assert!(table.lines().any(|l| l.starts_with("other") && l.contains(" 20 ")), "{table}");
        assert!(table.lines().any(|l| l.starts_with("frame") && l.contains("260")), "{table}");
        assert!(table.lines().any(|l| l.starts_with("set-up") && l.contains("120")), "{table}");
    }
}
