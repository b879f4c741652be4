//! The printed report: markdown tables of ratios (medians of per-round
//! ratios, measured in the same run) and of the raw medians.

use crate::generator::{CorpusDoc, Measured};
use crate::proxy::{ProxyRound, Through};
use crate::suite::{PerCall, hinges, median};
use std::fmt::Write;
use std::time::Duration;

/// Everything a run collected, per figure, per round.
#[derive(Default)]
pub struct Results {
    pub header: String,
    /// Per contender: (name, has sessions, one entry per round).
    pub per_call: Vec<(String, Vec<PerCall>)>,
    /// Index into `per_call` of the floor (bare hyper), if it ran.
    pub floor: Option<usize>,
    pub idle: Vec<(String, Vec<f64>)>,
    pub idle_sessions: usize,
    pub startup: Vec<(String, usize, Vec<Duration>)>,
    pub proxy: Vec<ProxyRound>,
    pub proxy_calls: u64,
    pub generate: Vec<(CorpusDoc, Vec<Measured>)>,
    pub cold: Vec<(String, Measured)>,
    pub notes: Vec<String>,
}

impl Results {
    /// Calls that failed their check, with the first message of each server.
    pub fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, rounds) in &self.per_call {
            for r in rounds.iter().filter(|r| r.errors > 0) {
                out.push(format!(
                    "{name}: {} errors, first: {}",
                    r.errors,
                    r.first_error.as_deref().unwrap_or("?")
                ));
            }
        }
        for r in self.proxy.iter().filter(|r| r.errors > 0) {
            out.push(format!(
                "proxy: {} errors, first: {}",
                r.errors,
                r.first_error.as_deref().unwrap_or("?")
            ));
        }
        out
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}\n", self.header);
        self.per_call_tables(&mut s);
        self.idle_table(&mut s);
        self.startup_table(&mut s);
        self.proxy_table(&mut s);
        self.generator_tables(&mut s);
        self.targets(&mut s);
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        let _ = writeln!(s, "load average at the end: {}", crate::run::load_average());
        s
    }

    /// Median over rounds of contender `i`'s figure `f` divided by the
    /// floor's in the same round.
    fn ratio(&self, i: usize, f: fn(&PerCall) -> f64) -> f64 {
        self.floor.map_or(f64::NAN, |b| self.ratio_to(i, b, f))
    }

    /// Median over rounds of contender `i`'s figure `f` divided by
    /// contender `base`'s in the same round.
    fn ratio_to(&self, i: usize, base: usize, f: fn(&PerCall) -> f64) -> f64 {
        median(&self.ratios_to(i, base, f))
    }

    /// Contender `i`'s figure `f` divided by contender `base`'s, round by
    /// round.
    fn ratios_to(&self, i: usize, base: usize, f: fn(&PerCall) -> f64) -> Vec<f64> {
        let base = &self.per_call[base].1;
        let rounds = &self.per_call[i].1;
        rounds.iter().zip(base).map(|(r, b)| f(r) / f(b)).collect()
    }

    fn raw(&self, i: usize, f: fn(&PerCall) -> f64) -> f64 {
        median(&self.per_call[i].1.iter().map(f).collect::<Vec<_>>())
    }

    fn per_call_tables(&self, s: &mut String) {
        if self.per_call.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "### tools/call: ratios to bare hyper (median of per-round ratios)\n"
        );
        let _ = writeln!(
            s,
            "| server | req/s | CPU per call | p50 | p99 |\n|---|---|---|---|---|"
        );
        for (i, (name, _)) in self.per_call.iter().enumerate() {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} |",
                times(self.ratio(i, |r| r.rps)),
                times(self.ratio(i, |r| r.cpu_us)),
                times(self.ratio(i, |r| r.p50_us)),
                times(self.ratio(i, |r| r.p99_us)),
            );
        }
        let _ = writeln!(s, "\n### tools/call: raw figures (medians over rounds)\n");
        let _ = writeln!(
            s,
            "| server | req/s | CPU per call µs | p50 µs | p99 µs | calls per round | errors |\n|---|---|---|---|---|---|---|"
        );
        for (i, (name, rounds)) in self.per_call.iter().enumerate() {
            let errors: u64 = rounds.iter().map(|r| r.errors).sum();
            let _ = writeln!(
                s,
                "| {name} | {:.0} | {:.1} | {:.0} | {:.0} | {:.0} | {errors} |",
                self.raw(i, |r| r.rps),
                self.raw(i, |r| r.cpu_us),
                self.raw(i, |r| r.p50_us),
                self.raw(i, |r| r.p99_us),
                self.raw(i, |r| r.calls as f64),
            );
        }
        let _ = writeln!(s);
    }

    fn idle_table(&self, s: &mut String) {
        if self.idle.is_empty() {
            return;
        }
        let base = self
            .idle
            .first()
            .map(|(_, v)| median(v))
            .unwrap_or(f64::NAN);
        let _ = writeln!(
            s,
            "### RSS per idle session ({} sessions; (RSS after − RSS before) / sessions)\n",
            self.idle_sessions
        );
        let _ = writeln!(
            s,
            "| server | KiB per session | ratio to {} |\n|---|---|---|",
            self.idle[0].0
        );
        for (name, rounds) in &self.idle {
            let m = median(rounds);
            let _ = writeln!(s, "| {name} | {m:.2} | {} |", times(m / base));
        }
        let _ = writeln!(s);
    }

    fn startup_table(&self, s: &mut String) {
        if self.startup.is_empty() {
            return;
        }
        let _ = writeln!(s, "### Start-up: spawn to the first answered tools/list\n");
        let _ = writeln!(
            s,
            "| server | tools on the first page | median ms | rounds |\n|---|---|---|---|"
        );
        for (name, tools, rounds) in &self.startup {
            let ms: Vec<f64> = rounds.iter().map(|d| d.as_secs_f64() * 1e3).collect();
            let _ = writeln!(
                s,
                "| {name} | {tools} | {:.1} | {} |",
                median(&ms),
                rounds.len()
            );
        }
        let _ = writeln!(s);
    }

    fn proxy_table(&self, s: &mut String) {
        if self.proxy.is_empty() {
            return;
        }
        let m = |f: fn(&ProxyRound) -> f64| median(&self.proxy.iter().map(f).collect::<Vec<_>>());
        let _ = writeln!(
            s,
            "### Upstream proxy overhead (1 worker, {} calls per round; medians over rounds)\n",
            self.proxy_calls
        );
        let _ = writeln!(
            s,
            "| | p50 µs | p99 µs | proxy CPU per call µs |\n|---|---|---|---|"
        );
        let _ = writeln!(
            s,
            "| upstream called directly | {:.0} | {:.0} | – |",
            m(|r| r.direct_p50),
            m(|r| r.direct_p99)
        );
        let rows: [(&str, Pick); 2] = [
            ("the generated server", |r| &r.proxied),
            ("a bare hyper proxy (the floor)", |r| &r.floor),
        ];
        for (name, of) in rows {
            let through = |f: fn(&Through) -> f64| {
                median(&self.proxy.iter().map(|r| f(of(r))).collect::<Vec<_>>())
            };
            let _ = writeln!(
                s,
                "| through {name} | {:.0} | {:.0} | {:.1} |",
                through(|t| t.p50),
                through(|t| t.p99),
                through(|t| t.cpu_us)
            );
        }
        for (name, of) in rows {
            let added = |f: fn(&Through) -> f64, direct: fn(&ProxyRound) -> f64| {
                median(
                    &self
                        .proxy
                        .iter()
                        .map(|r| f(of(r)) - direct(r))
                        .collect::<Vec<_>>(),
                )
            };
            let _ = writeln!(
                s,
                "| added by {name} | {:.0} | {:.0} | |",
                added(|t| t.p50, |r| r.direct_p50),
                added(|t| t.p99, |r| r.direct_p99)
            );
        }
        let _ = writeln!(
            s,
            "\nWhat the generated server adds is {} what the floor adds (p50, median of per-round ratios).\n",
            times(self.proxy_ratio())
        );
    }

    /// Median over rounds of (generated − direct) ÷ (floor − direct), p50.
    fn proxy_ratio(&self) -> f64 {
        let ratios: Vec<f64> = self
            .proxy
            .iter()
            .map(|r| (r.proxied.p50 - r.direct_p50) / (r.floor.p50 - r.direct_p50))
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        median(&ratios)
    }

    fn generator_tables(&self, s: &mut String) {
        if !self.generate.is_empty() {
            let _ = writeln!(
                s,
                "### mcpgen generate on the largest corpus documents (medians)\n"
            );
            let _ = writeln!(
                s,
                "| document | operations | wall s | peak RSS MiB |\n|---|---|---|---|"
            );
            for (doc, runs) in &self.generate {
                let wall: Vec<f64> = runs.iter().map(|m| m.wall.as_secs_f64()).collect();
                let peak: Vec<f64> = runs
                    .iter()
                    .filter_map(|m| m.peak_kib)
                    .map(|k| k as f64 / 1024.0)
                    .collect();
                let _ = writeln!(
                    s,
                    "| {} | {} | {:.2} | {:.1} |",
                    doc.name,
                    doc.operations,
                    median(&wall),
                    median(&peak)
                );
            }
            let _ = writeln!(s);
        }
        if !self.cold.is_empty() {
            let _ = writeln!(
                s,
                "### Cold build of a generated crate (`cargo build`, empty target dir)\n"
            );
            let _ = writeln!(s, "| crate | wall s | peak RSS MiB |\n|---|---|---|");
            for (name, m) in &self.cold {
                let peak = m
                    .peak_kib
                    .map(|k| format!("{:.0}", k as f64 / 1024.0))
                    .unwrap_or("–".into());
                let _ = writeln!(s, "| {name} | {:.1} | {peak} |", m.wall.as_secs_f64());
            }
            let _ = writeln!(s);
        }
    }

    /// The targets, as informational lines (never a failure),
    /// each with the middle half of its per-round figures and a verdict
    /// that says so when the rounds fall on both sides of the target.
    fn targets(&self, s: &mut String) {
        let Some(gen_i) = self
            .per_call
            .iter()
            .position(|(n, _)| n.starts_with("generated"))
        else {
            return;
        };
        let _ = writeln!(
            s,
            "### Issue 9 targets (informational, never fails the run)\n"
        );
        // A target's line; `then` adds a figure that only informs.
        let mut line = |what: &str, values: &[f64], target: f64, unit: Unit, then: &str| {
            let _ = writeln!(s, "- {what}: {}{then}", verdict(values, target, unit));
        };
        if let Some(b) = self.floor {
            let cpu = self.ratios_to(gen_i, b, |r| r.cpu_us);
            let what = "CPU per tools/call, generated ÷ bare hyper";
            line(what, &cpu, 1.2, Unit::Times, "");
            let p99 = self.ratios_to(gen_i, b, |r| r.p99_us);
            line("p99, generated ÷ bare hyper", &p99, 1.2, Unit::Times, "");
        }
        if let Some(modern) = self
            .per_call
            .iter()
            .position(|(n, _)| n.starts_with("generated") && n.contains("stateless"))
        {
            let what = "stateless 2026-07-28 ÷ 2025-11-25 session, generated, CPU per call";
            let cpu = self.ratios_to(modern, gen_i, |r| r.cpu_us);
            let p50 = times(self.ratio_to(modern, gen_i, |r| r.p50_us));
            line(what, &cpu, 1.0, Unit::Times, &format!("; p50 {p50}"));
        }
        if let Some((_, v)) = self.idle.iter().find(|(n, _)| n.starts_with("generated")) {
            line("RSS per idle session", v, 2.0, Unit::KiB, "");
        }
        if !self.proxy.is_empty() {
            let added: Vec<f64> = self
                .proxy
                .iter()
                .map(|r| r.proxied.p50 - r.direct_p50)
                .collect();
            let floor = median(
                &self
                    .proxy
                    .iter()
                    .map(|r| r.floor.p50 - r.direct_p50)
                    .collect::<Vec<_>>(),
            );
            let then = format!(
                "; a bare hyper proxy adds {floor:.0} µs on this host, so the generated server adds {} as much",
                times(self.proxy_ratio())
            );
            line("proxy overhead p50", &added, 50.0, Unit::Micros, &then);
        }
        let _ = writeln!(s);
    }
}

/// How a target's figure is written.
#[derive(Clone, Copy)]
enum Unit {
    Times,
    KiB,
    Micros,
}

impl Unit {
    fn show(self, x: f64) -> String {
        match self {
            Unit::Times => times(x),
            Unit::KiB => format!("{x:.2} KiB"),
            Unit::Micros => format!("{x:.0} µs"),
        }
    }
}

/// The median of one figure's rounds, the middle half of them (hinges),
/// and the verdict on "at most `target`": met when the upper hinge is
/// within it, not met when the lower hinge is past it, and undecided
/// when the rounds' middle half lies on both sides: on a noisy host a
/// median a little either side of the target says no more than that.
fn verdict(values: &[f64], target: f64, unit: Unit) -> String {
    let [low, mid, high] = hinges(values);
    let word = if high <= target {
        "met"
    } else if low > target {
        "not met"
    } else {
        "undecided, the rounds lie on both sides"
    };
    let spread = match values.iter().filter(|x| !x.is_nan()).count() {
        1 => "one round".to_string(),
        n => format!(
            "middle half of {n} rounds {} to {}",
            unit.show(low),
            unit.show(high)
        ),
    };
    format!(
        "{} ({spread}; target ≤ {}): {word}",
        unit.show(mid),
        unit.show(target)
    )
}

/// One proxy's figures out of a round.
type Pick = fn(&ProxyRound) -> &Through;

fn times(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}×")
    } else {
        "–".into()
    }
}

#[cfg(test)]
mod tests {
    use super::{Unit, verdict};

    #[test]
    fn verdict_reads_the_middle_half_of_the_rounds() {
        let below = [1.10, 1.15, 1.18, 1.12, 1.19];
        assert!(verdict(&below, 1.2, Unit::Times).ends_with("): met"));
        let above = [1.25, 1.30, 1.22, 1.40, 1.28];
        assert!(verdict(&above, 1.2, Unit::Times).ends_with("): not met"));
        // Median within the target, but a quarter of the rounds past it.
        let across = [1.10, 1.15, 1.18, 1.25, 1.30];
        let line = verdict(&across, 1.2, Unit::Times);
        assert!(
            line.ends_with("undecided, the rounds lie on both sides"),
            "{line}"
        );
        assert!(
            line.starts_with("1.18× (middle half of 5 rounds 1.15× to 1.25×; target ≤ 1.20×)"),
            "{line}"
        );
    }

    #[test]
    fn verdict_writes_each_unit() {
        let line = verdict(&[61.0, 79.0, 71.0], 50.0, Unit::Micros);
        assert_eq!(
            line,
            "71 µs (middle half of 3 rounds 66 µs to 75 µs; target ≤ 50 µs): not met"
        );
        let line = verdict(&[1.48], 2.0, Unit::KiB);
        assert_eq!(line, "1.48 KiB (one round; target ≤ 2.00 KiB): met");
    }
}
