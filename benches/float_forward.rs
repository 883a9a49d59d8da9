//! Float forward pass: ompqc's IR executor against tract on the same inputs, in one run.
//!
//!     cargo bench --bench float_forward [-- MODEL.onnx [BATCH]]
//!
//! Default: the random-weight MobileNetV2-1.0 at 224x224 from ../shared/eval/random_arch, batch 32. tract runs
//! the batch one sample at a time on one thread (its model has batch 1); ompqc runs it on one thread and on all
//! cores. Figures are wall-clock medians of a few repetitions; compare the ratios, the machine is shared.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ompqc::data::Samples;
use ompqc::exec;
use ompqc::import::{self, ImportOptions};
use tract_onnx::prelude::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(reps: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let model = args.first().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/random_arch/mobilenetv2_1.0_224.onnx")
    });
    let batch: usize = args.get(1).and_then(|b| b.parse().ok()).unwrap_or(32);
    if !model.is_file() {
        eprintln!("float_forward: skipped: {} not found (pass a model path)", model.display());
        return;
    }
    let graph = import::load(&model, &ImportOptions::default()).expect("import");
    let shape = graph.input_shape().to_vec();
    let len: usize = shape.iter().product();
    let data = (0..batch * len).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let samples = Samples { n: batch, sample_shape: shape.clone(), data };

    let plan = tract_onnx::onnx()
        .model_for_path(&model)
        .and_then(|m| m.with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), shape.as_slice())))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .expect("tract");
    let inputs: Vec<Tensor> = (0..batch).map(|i| Tensor::from_shape(&shape, samples.sample(i)).unwrap()).collect();

    let reps = 3;
    let tract = time(reps, || {
        for t in &inputs {
            plan.run(tvec!(t.clone().into())).unwrap();
        }
    });
    std::env::set_var("OMPQC_THREADS", "1");
    let ours_1 = time(reps, || {
        exec::run(&graph, &samples).unwrap();
    });
    std::env::remove_var("OMPQC_THREADS");
    let ours_all = time(reps, || {
        exec::run(&graph, &samples).unwrap();
    });
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let macs = graph.total_macs() as f64 * batch as f64;
    println!("model {} batch {batch}, {:.1} M MACs per sample", model.display(), graph.total_macs() as f64 / 1e6);
    for (name, d) in [
        ("tract (1 thread)", tract),
        ("ompqc (1 thread)", ours_1),
        (&format!("ompqc ({cores} threads)") as &str, ours_all),
    ] {
        println!("{name:<20} {:>9.1} ms   {:>6.2} GMAC/s", d.as_secs_f64() * 1e3, macs / d.as_secs_f64() / 1e9);
    }
    println!("ratio ompqc/tract, 1 thread: {:.2}x the time", ours_1.as_secs_f64() / tract.as_secs_f64());
    println!("ratio ompqc/tract, {cores} threads: {:.2}x the time", ours_all.as_secs_f64() / tract.as_secs_f64());
}
