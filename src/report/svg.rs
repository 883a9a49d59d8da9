//! A small SVG writer for the report's charts: rectangles, lines and text, each element optionally carrying a
//! `<title>` (the browser shows it on hover). Numbers are printed with fixed decimals, so the same chart is the same
//! bytes.

use std::fmt::Write;

pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A layer name's path components: the first of the `;`-joined names exporters write, without the components that
/// only prefix the next one (PyTorch's `features/features.3/conv/conv.1/conv.1.0/Conv` becomes
/// `features.3/conv.1.0/Conv`).
fn components(name: &str) -> Vec<&str> {
    let first = name.split(';').next().unwrap_or(name);
    let all: Vec<&str> = first.split('/').filter(|p| !p.is_empty()).collect();
    let kept: Vec<&str> = all
        .iter()
        .enumerate()
        .filter(|&(i, p)| all.get(i + 1).is_none_or(|next| !next.starts_with(p)))
        .map(|(_, p)| *p)
        .collect();
    if kept.is_empty() {
        vec![first]
    } else {
        kept
    }
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// Labels for layer names on an axis, at most `max` characters each: per name the fewest last path components that
/// tell it from the others (`batch_normalization_2/FusedBatchNormV3`, not `FusedBatchNormV3` when several layers
/// end so); when that is too long, its first component, which is what tells it apart, followed by `/…`. The full
/// names go in the elements' titles.
pub fn short_names(names: &[&str], max: usize) -> Vec<String> {
    let parts: Vec<Vec<&str>> = names.iter().map(|n| components(n)).collect();
    let suffix = |p: &[&str], k: usize| p[p.len() - k.min(p.len())..].join("/");
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let k = (1..=p.len())
                .find(|&k| {
                    let mine = suffix(p, k);
                    parts.iter().enumerate().all(|(j, q)| j == i || suffix(q, k) != mine)
                })
                .unwrap_or(p.len());
            let label = suffix(p, k);
            if label.chars().count() <= max || k == 1 {
                cut(&label, max)
            } else {
                format!("{}/…", cut(p[p.len() - k], max.saturating_sub(2)))
            }
        })
        .collect()
}

/// A colour of the sequential scale (light yellow through green to dark blue) at t in [0, 1].
pub fn sequential(t: f64) -> String {
    const STOPS: [(f64, f64, f64); 5] =
        [(255.0, 255.0, 204.0), (161.0, 218.0, 180.0), (65.0, 182.0, 196.0), (44.0, 127.0, 184.0), (37.0, 52.0, 148.0)];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The colour of a weight width.
pub fn width_colour(bits: u8) -> &'static str {
    match bits {
        8 => "#3182bd",
        4 => "#fdae6b",
        2 => "#de2d26",
        _ => "#969696",
    }
}

fn title(text: Option<&str>) -> String {
    text.map_or(String::new(), |t| format!("<title>{}</title>", escape(t)))
}

impl Svg {
    pub fn new(width: f64, height: f64) -> Svg {
        Svg { width, height, body: String::new() }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, hover: Option<&str>) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}">{}</rect>"#,
            w.max(0.0),
            h.max(0.0),
            title(hover)
        );
        self.body.push('\n');
    }

    /// An unfilled rectangle.
    pub fn outline(&mut self, x: f64, y: f64, w: f64, h: f64, stroke: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{stroke}"/>"#,
            w.max(0.0),
            h.max(0.0)
        );
    }

    pub fn line(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        stroke: &str,
        dashed: bool,
        hover: Option<&str>,
    ) {
        let dash = if dashed { r#" stroke-dasharray="6 3""# } else { "" };
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}" stroke-width="2"{dash}>{}</line>"#,
            title(hover)
        );
    }

    /// Text at (x, y) anchored `start`, `middle` or `end`, turned by `angle` degrees about its anchor.
    pub fn text(&mut self, (x, y): (f64, f64), text: &str, size: f64, anchor: &str, angle: f64, hover: Option<&str>) {
        let turn =
            if angle == 0.0 { String::new() } else { format!(r#" transform="rotate({angle:.0} {x:.1} {y:.1})""#) };
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-size="{size:.0}" text-anchor="{anchor}"{turn}>{}{}</text>"#,
            title(hover),
            escape(text)
        );
    }

    pub fn finish(self, label: &str) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0}\" height=\"{:.0}\" viewBox=\"0 0 {:.0} {:.0}\" \
             font-family=\"sans-serif\" role=\"img\" aria-label=\"{}\">\n{}</svg>\n",
            self.width,
            self.height,
            self.width,
            self.height,
            escape(label),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_tell_layers_apart() {
        let names = [
            "model/activation_1/Relu;model/batch_normalization_1/FusedBatchNormV3;model/conv2d_1/BiasAdd",
            "model/batch_normalization_2/FusedBatchNormV3;model/conv2d_2/BiasAdd",
            "model/batch_normalization_4/FusedBatchNormV3;model/conv2d_4/BiasAdd",
            "/features/features.3/conv/conv.1/conv.1.0/Conv",
            "/features/features.4/conv/conv.1/conv.1.0/Conv",
            "conv1",
            "a_very_long_single_component_name",
        ];
        assert_eq!(
            short_names(&names, 26),
            [
                "Relu",
                "batch_normalization_2/…",
                "batch_normalization_4/…",
                "features.3/conv.1.0/Conv",
                "features.4/conv.1.0/Conv",
                "conv1",
                "a_very_long_single_compon…"
            ]
        );
    }

    #[test]
    fn text_is_escaped_and_colours_are_fixed() {
        let mut svg = Svg::new(10.0, 10.0);
        svg.text((1.0, 2.0), "a<b&c", 11.0, "start", 0.0, Some("\"x\""));
        let out = svg.finish("t");
        assert!(out.contains("a&lt;b&amp;c") && out.contains("<title>&quot;x&quot;</title>"), "{out}");
        assert_eq!(sequential(0.0), "#ffffcc");
        assert_eq!(sequential(1.0), "#253494");
    }
}
