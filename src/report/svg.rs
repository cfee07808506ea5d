//! The report's pictures as inline SVG, for the self-contained HTML: findings per day stacked
//! by severity band, and findings per region by band. No script, no external reference; every
//! run-time string (day, region, counts in tooltips) goes through the same escaping as the
//! HTML, and only text written in this file is raw markup.

use std::fmt::Write as _;

use super::html::escape_into;
use super::model::{BandCounts, DayCount, RegionCount};
use crate::findings::severity::Band;

/// Fill colours, Low to Critical (the heat map's palette).
const COLOURS: [&str; 4] = ["#8fb3e8", "#f0b400", "#f07030", "#b00000"];

/// Finished SVG markup: only this module makes one, so the HTML can embed it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markup(String);

impl Markup {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SVG markup under construction: raw only for `'static` text, escaped for the rest.
struct Svg(String);

impl Svg {
    fn raw(&mut self, markup: &'static str) -> &mut Svg {
        self.0.push_str(markup);
        self
    }
    fn text(&mut self, s: &str) -> &mut Svg {
        escape_into(&mut self.0, s);
        self
    }
    /// A number we computed: safe as markup, rounded to keep the output small and stable.
    fn num(&mut self, n: f64) -> &mut Svg {
        let _ = write!(self.0, "{}", (n * 10.0).round() / 10.0);
        self
    }
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &'static str) -> &mut Svg {
        self.raw("<rect x=\"")
            .num(x)
            .raw("\" y=\"")
            .num(y)
            .raw("\" width=\"")
            .num(w)
            .raw("\" height=\"")
            .num(h)
            .raw("\" fill=\"")
            .raw(fill)
            .raw("\">")
    }
    fn label(&mut self, x: f64, y: f64, anchor: &'static str, s: &str) -> &mut Svg {
        self.raw("<text x=\"")
            .num(x)
            .raw("\" y=\"")
            .num(y)
            .raw("\" text-anchor=\"")
            .raw(anchor)
            .raw("\">")
            .text(s)
            .raw("</text>\n")
    }
}

fn total(c: &BandCounts) -> u64 {
    c.iter().sum()
}

/// A round axis maximum at or above `n` (1, 2, 5 x 10^k).
fn nice(n: u64) -> u64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= n.max(1) {
                return m * step;
            }
        }
        step *= 10;
    }
}

fn legend(s: &mut Svg, x: f64, y: f64) {
    for (i, b) in Band::ALL.iter().enumerate() {
        let x = x + i as f64 * 90.0;
        s.rect(x, y - 9.0, 10.0, 10.0, COLOURS[i])
            .raw("</rect>\n")
            .label(x + 14.0, y, "start", b.name());
    }
}

/// One stacked bar, bottom (Low) up; each part's tooltip says what it counts.
#[allow(clippy::too_many_arguments)]
fn stacked_column(s: &mut Svg, what: &str, c: &BandCounts, x: f64, w: f64, base: f64, scale: f64) {
    let mut y = base;
    for (i, b) in Band::ALL.iter().enumerate() {
        if c[i] == 0 {
            continue;
        }
        let h = c[i] as f64 * scale;
        y -= h;
        s.rect(x, y, w, h, COLOURS[i])
            .raw("<title>")
            .text(&format!("{what}: {} {}", c[i], b.name()))
            .raw("</title></rect>\n");
    }
}

/// Current findings per day, stacked by band, over the report's window.
pub fn per_day(days: &[DayCount]) -> Markup {
    let mut s = Svg(String::with_capacity(8 * 1024));
    if days.iter().all(|d| total(&d.current) == 0) {
        s.raw("<p>No current findings with a date in the window.</p>\n");
        return Markup(s.0);
    }
    let (width, height) = (760.0, 240.0);
    let (left, right, top, bottom) = (44.0, 10.0, 10.0, 58.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = nice(days.iter().map(|d| total(&d.current)).max().unwrap_or(0));
    let scale = plot_h / max as f64;
    let slot = plot_w / days.len() as f64;
    // A few days make wide slots: keep bars slim and centred in them.
    let bar = (slot * 0.8).clamp(1.0, 36.0);
    let base = top + plot_h;
    s.raw("<svg class=\"chart\" role=\"img\" width=\"")
        .num(width)
        .raw("\" height=\"")
        .num(height)
        .raw("\" viewBox=\"0 0 ")
        .num(width)
        .raw(" ")
        .num(height)
        .raw("\" aria-label=\"Current findings per day, stacked by severity\"><title>")
        .text(&format!(
            "Current findings per day from {} to {}",
            days[0].day,
            days[days.len() - 1].day
        ))
        .raw("</title>\n");
    // Axis: 0, half and the maximum, with grid lines.
    for (i, v) in [0, max / 2, max].into_iter().enumerate() {
        if i == 1 && (max < 2 || !max.is_multiple_of(2)) {
            continue;
        }
        let y = base - v as f64 * scale;
        s.raw("<line class=\"grid\" x1=\"")
            .num(left)
            .raw("\" x2=\"")
            .num(width - right)
            .raw("\" y1=\"")
            .num(y)
            .raw("\" y2=\"")
            .num(y)
            .raw("\"></line>\n")
            .label(left - 4.0, y + 4.0, "end", &v.to_string());
    }
    // At most about eight day labels, the first and the last always.
    let every = days.len().div_ceil(8).max(1);
    for (i, d) in days.iter().enumerate() {
        let x = left + i as f64 * slot + (slot - bar) / 2.0;
        stacked_column(&mut s, &d.day, &d.current, x, bar, base, scale);
        if i % every == 0 || i == days.len() - 1 {
            s.label(x + bar / 2.0, base + 14.0, "middle", &d.day);
        }
    }
    legend(&mut s, left, height - 10.0);
    s.raw("</svg>\n");
    Markup(s.0)
}

/// Current findings per region, one horizontal bar each, stacked by band.
pub fn per_region(regions: &[RegionCount]) -> Markup {
    let mut s = Svg(String::with_capacity(8 * 1024));
    if regions.is_empty() {
        return Markup(s.0);
    }
    let (row, left, bar_w) = (18.0, 120.0, 520.0);
    let width = left + bar_w + 70.0;
    let height = regions.len() as f64 * row + 34.0;
    let max = regions
        .iter()
        .map(|r| total(&r.current))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = bar_w / max as f64;
    s.raw("<svg class=\"chart\" role=\"img\" width=\"")
        .num(width)
        .raw("\" height=\"")
        .num(height)
        .raw("\" viewBox=\"0 0 ")
        .num(width)
        .raw(" ")
        .num(height)
        .raw("\" aria-label=\"Current findings per region, by severity\"><title>Current findings per region</title>\n");
    for (i, r) in regions.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        s.label(left - 6.0, y + 12.0, "end", &r.region);
        let mut x = left;
        for (b, band) in Band::ALL.iter().enumerate() {
            let n = r.current[b];
            if n == 0 {
                continue;
            }
            let w = n as f64 * scale;
            s.rect(x, y + 2.0, w, row - 5.0, COLOURS[b])
                .raw("<title>")
                .text(&format!("{}: {n} {}", r.region, band.name()))
                .raw("</title></rect>\n");
            x += w;
        }
        s.label(x + 4.0, y + 12.0, "start", &total(&r.current).to_string());
    }
    legend(&mut s, left, height - 8.0);
    s.raw("</svg>\n");
    Markup(s.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str, c: BandCounts) -> DayCount {
        DayCount {
            day: d.into(),
            current: c,
        }
    }

    #[test]
    fn per_day_stacks_bands_with_tooltips() {
        let days = vec![
            day("2026-11-19", [3, 1, 0, 0]),
            day("2026-11-20", [0, 0, 0, 0]),
            day("2026-11-21", [1, 2, 2, 1]),
        ];
        let svg = per_day(&days).0;
        assert!(svg.contains("<title>2026-11-21: 1 Critical</title>"));
        assert_eq!(
            svg.matches("<rect").count(),
            6 + 4,
            "6 parts + 4 legend keys"
        );
        insta::assert_snapshot!(svg);
    }

    #[test]
    fn per_region_with_a_hostile_name_is_escaped() {
        let regions = vec![
            RegionCount {
                region: "eu-west-1".into(),
                current: [4, 3, 2, 1],
            },
            RegionCount {
                region: "<script>x</script>".into(),
                current: [0, 0, 0, 0],
            },
        ];
        let svg = per_region(&regions).0;
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
        insta::assert_snapshot!(svg);
    }

    #[test]
    fn nothing_to_draw_says_so() {
        assert!(per_day(&[]).0.contains("No current findings"));
        assert_eq!(nice(0), 1);
        assert_eq!(nice(7), 10);
        assert_eq!(nice(11), 20);
        assert_eq!(nice(250), 500);
    }
}
