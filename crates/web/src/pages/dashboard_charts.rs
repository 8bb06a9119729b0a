//! The dashboard's charts: bar charts drawn on the server as inline SVG with
//! `charts-rs`. No JavaScript and nothing from a CDN; the labels are SVG text, so the
//! browser draws the Chinese with the viewing machine's CJK fonts.

use charts_rs::{BarChart, MarkLine, MarkLineCategory, Series};

/// One bar chart: categories along the x axis, one or more series of bars.
pub(crate) struct Bars<'a> {
    pub title: &'a str,
    pub categories: Vec<String>,
    pub series: Vec<(&'a str, Vec<f64>)>,
    /// Stack the series (parts of one whole) instead of putting them side by side.
    pub stacked: bool,
    /// A dashed line across the chart at this value (a threshold), with its name.
    pub mark: Option<f64>,
}

/// `charts-rs` measures text with its built-in Latin font, which lacks CJK glyphs and
/// measures each as a narrow placeholder; trailing spaces (which the browser does not
/// draw) make up the difference, so legends, titles and axis labels are laid out for
/// the width the browser will draw.
fn widened(text: &str) -> String {
    let wide = text.chars().filter(|c| !c.is_ascii()).count();
    format!("{text}{}", " ".repeat(wide * 2))
}

/// The chart as an `<svg>` element, or `None` when there is nothing to draw or the
/// library refuses (the data table under the chart still shows every number).
pub(crate) fn bar_svg(bars: Bars<'_>) -> Option<String> {
    if bars.categories.is_empty() || bars.series.is_empty() {
        return None;
    }
    let many = bars.series.len() > 1;
    let series: Vec<Series> = bars
        .series
        .into_iter()
        .map(|(name, values)| {
            let mut s = Series::new(widened(name), values.into_iter().map(|v| v as f32).collect());
            s.label_show = !many && bars.categories.len() <= 24;
            if bars.stacked {
                s.stack = Some("all".to_owned());
            }
            if let Some(m) = bars.mark {
                s.mark_lines = vec![MarkLine { category: MarkLineCategory::Value(m as f32), ..Default::default() }];
            }
            s
        })
        .collect();
    let n = bars.categories.len();
    let categories = bars.categories.iter().map(|c| widened(c)).collect();
    let mut chart = BarChart::new(series, categories);
    chart.title.text = widened(bars.title);
    chart.width = (n as f32 * 72.0).clamp(560.0, 1600.0);
    chart.height = 340.0;
    chart.legend.show = Some(many);
    chart.svg().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_labels_reach_the_svg() {
        let svg = bar_svg(Bars {
            title: "贫困发生率",
            categories: vec!["城关镇".into(), "白柳镇".into()],
            series: vec![("在册贫困户", vec![3.0, 1.0]), ("已脱贫户", vec![2.0, 5.0])],
            stacked: true,
            mark: None,
        })
        .expect("a chart");
        assert!(svg.starts_with("<svg"), "{svg}");
        for label in ["贫困发生率", "城关镇", "白柳镇", "在册贫困户"] {
            assert!(svg.contains(label), "{label} missing");
        }
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn nothing_to_draw_is_no_chart() {
        let none = bar_svg(Bars { title: "x", categories: vec![], series: vec![], stacked: false, mark: None });
        assert!(none.is_none());
    }
}
