//! The HTML report: `compile` writes DIR/report.html, self-contained and deterministic; `report DIR --html FILE`
//! adds the sizes per target and the kept profile. Headless Chromium (Debian's `chromium`, driven through the
//! DevTools protocol by tests/report_html.py) opens the bundled example's page and MobileNetV2-0.35's (65 layers):
//! no console errors, every section visible, no overlapping axis labels, the numbers those of report.json, the
//! layer table sorted by a click. Screenshots stay in the test's output directory for a person to look at.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{check, ompqc, repo};
use ompqc::report::inspect::thousands;

fn example(file: &str) -> PathBuf {
    repo().join("examples/digits").join(file)
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `ompqc compile` of the bundled example with a searched plan (nearest rounding: quick).
fn compile_example(dir: &Path) {
    let run = ompqc()
        .arg("compile")
        .arg(example("model.onnx"))
        .args(["--target", "cortex-m4", "--flash-budget", "62.5%", "--fast", "-o"])
        .arg(dir)
        .output()
        .unwrap();
    check(&run, "compile the example");
}

fn report_json(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn compile_writes_a_self_contained_deterministic_report_page() {
    let root = scratch("compile");
    let (a, b) = (root.join("a"), root.join("b"));
    compile_example(&a);
    compile_example(&b);
    let page = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert_eq!(page.as_bytes(), std::fs::read(b.join("report.html")).unwrap(), "the same inputs, the same page");
    assert_eq!(std::fs::read(a.join("search.json")).unwrap(), std::fs::read(b.join("search.json")).unwrap());
    // Nothing is fetched: no external script, style sheet, image or font.
    for fetch in ["<link", " src=", "@import", "url("] {
        assert!(!page.contains(fetch), "the page fetches something: {fetch}");
    }
    let report = report_json(&a);
    let weight_bytes = thousands(report["weight_bytes"].as_u64().unwrap());
    assert!(page.contains(&format!("<span id=\"weight-bytes\">{weight_bytes}</span>")));
    // The search: the heat map with every layer name on hover, the four allocators, the plan kept.
    for name in ["conv1", "conv2", "block.depthwise", "block.pointwise", "fc"] {
        assert!(page.contains(&format!("<title>{name} × {name}: 1.000</title>")), "{name}");
    }
    for allocator in ["sensitivity", "ompq", "size-only", "uniform"] {
        assert!(page.contains(&format!("<td>{allocator}</td>")), "{allocator}");
    }
    assert!(page.contains("auto kept the <b>"), "the plan auto kept");
    // Sections without data say how to get it.
    assert!(page.contains("--targets all") && page.contains("--profile"));
    std::fs::remove_dir_all(&root).unwrap();
}

/// Headless Chromium and a Python that drives it, or why the browser checks skip.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
        .map(PathBuf::from);
    let python = common::python_with("websocket");
    match (chromium, python) {
        (Some(c), Some(p)) => Some((c, p)),
        (None, _) => {
            eprintln!("skipped: no chromium (scripts/test.sh installs Debian's chromium)");
            None
        }
        (_, None) => {
            eprintln!("skipped: no Python with websocket-client (scripts/test.sh installs it into target/pyenv)");
            None
        }
    }
}

/// What the page shows in the browser (tests/report_html.py), its screenshot written beside it.
fn open(chromium: &Path, python: &Path, page: &Path) -> serde_json::Value {
    let shot = page.with_extension("png");
    let run =
        Command::new(python).arg(repo().join("tests/report_html.py")).args([chromium, page, &shot]).output().unwrap();
    check(&run, "tests/report_html.py");
    eprintln!("screenshot of {}: {}", page.display(), shot.display());
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "an empty screenshot");
    serde_json::from_slice(&run.stdout).unwrap()
}

fn assert_reads_well(seen: &serde_json::Value, report: &serde_json::Value, sections: &[&str]) {
    assert_eq!(seen["console_errors"], serde_json::json!([]), "console errors");
    for id in sections {
        assert_eq!(seen["visible"][id], true, "#{id} is not visible: {seen}");
    }
    assert!(seen["width"].as_u64().unwrap() <= 1280, "the page scrolls sideways: {}", seen["width"]);
    assert_eq!(seen["label_overlaps"], 0, "axis labels overlap");
    assert!(seen["titles"].as_u64().unwrap() > 20, "values on hover");
    let numbers = &seen["numbers"];
    assert_eq!(numbers["weight_bytes"], thousands(report["weight_bytes"].as_u64().unwrap()));
    assert_eq!(numbers["arena_bytes"], thousands(report["arena_bytes"].as_u64().unwrap()));
    assert_eq!(numbers["macs"], thousands(report["macs"].as_u64().unwrap()));
    assert_eq!(numbers["model_hash"], report["model_hash"]);
    // The layer table holds report.json's layers, in order, with their widths and MACs.
    let rows = seen["layers"].as_array().unwrap();
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(rows.len(), layers.len());
    for (row, layer) in rows.iter().zip(layers) {
        assert_eq!(row[1], layer["name"]);
        assert_eq!(row[4], layer["bits"].as_u64().map_or("-".into(), |b| b.to_string()));
        assert_eq!(row[5], thousands(layer["macs"].as_u64().unwrap()));
        assert_eq!(row[7], layer["sqnr_db"].as_f64().map_or("-".into(), |d| format!("{d:.1}")));
    }
    assert!(layers.iter().any(|l| l["sqnr_db"].as_f64().is_some()), "SQNR measured at compile time");
    // A click on MACs sorts the rows by it.
    let column = seen["macs_column"].as_u64().unwrap() as usize;
    let macs: Vec<u64> = seen["sorted_by_macs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[column].as_str().unwrap().replace(',', "").parse().unwrap())
        .collect();
    assert!(macs.windows(2).all(|w| w[0] <= w[1]) && macs.len() == rows.len(), "{macs:?}");
}

#[test]
fn the_example_report_reads_in_a_real_browser() {
    let Some((chromium, python)) = browser() else { return };
    let root = scratch("example");
    let dir = root.join("out");
    compile_example(&dir);
    let profile = ompqc()
        .arg("run")
        .arg(&dir)
        .args(["--target", "cortex-m4", "--profile", "--limit", "1", "--inputs"])
        .arg(example("test_x.npy"))
        .output()
        .unwrap();
    check(&profile, "run --profile");
    assert!(dir.join("profile.json").is_file(), "run --profile keeps its counts");
    let page = root.join("example.html");
    let run = ompqc()
        .arg("report")
        .arg(&dir)
        .args(["--targets", "cortex-m4,rv32imac", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    check(&run, "report --html");
    let seen = open(&chromium, &python, &page);
    let sections = [
        "card",
        "layer-table",
        "candidates",
        "orm",
        "allocation",
        "memory-chart",
        "size-table",
        "size-chart",
        "profile-chart",
    ];
    assert_reads_well(&seen, &report_json(&dir), &sections);
    // The profile's instructions per layer are in the table.
    let profile: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("profile.json")).unwrap()).unwrap();
    let conv1 = &seen["layers"][0];
    assert_eq!(conv1[11], thousands(profile["layers"][0]["instructions"].as_u64().unwrap()));
}

/// MobileNetV2-0.35 (65 layers, 53 of them searched): the heat map and the allocation stay readable.
#[test]
fn a_65_layer_report_stays_readable() {
    let Some(eval) = common::eval_dir("a_65_layer_report_stays_readable") else { return };
    let Some((chromium, python)) = browser() else { return };
    let root = scratch("mobilenet");
    let model = eval.join("random_arch/mobilenetv2_0.35_96.onnx");
    let calib = common::random_calib(&model, &root);
    let dir = root.join("out");
    let run = ompqc()
        .arg("compile")
        .arg(&model)
        .arg("--calib")
        .arg(&calib)
        .args(["--target", "cortex-m7", "--flash-budget", "60%", "--fast", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    check(&run, "compile MobileNetV2-0.35");
    let report = report_json(&dir);
    assert_eq!(report["layers"].as_array().unwrap().len(), 65);
    let page = root.join("mobilenetv2.html");
    std::fs::copy(dir.join("report.html"), &page).unwrap();
    let seen = open(&chromium, &python, &page);
    assert_reads_well(&seen, &report, &["card", "layer-table", "candidates", "orm", "allocation", "memory-chart"]);
}
