//! Generates the synthetic 旬阳 into a folder and reports the time taken:
//! `cargo run --release -p fupin-synth --example generate -- 300000 /tmp/xunyang [faults] [seed]`.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let households: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let out = std::path::PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "synth-out".into()));
    let faults: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
    let seed: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(1);
    let today = time::macros::date!(2026 - 03 - 15);
    let mut cfg = fupin_synth::Config::xunyang(households, seed, today);
    cfg.faults = faults;
    let tree = fupin_domain::DivisionTree::builtin_xunyang();
    let start = Instant::now();
    match fupin_synth::generate(&cfg, &tree, &out, None) {
        Ok(s) => println!(
            "{} households, {} persons, {} faults in {:.2} s",
            s.households,
            s.persons,
            s.faults,
            start.elapsed().as_secs_f64()
        ),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
