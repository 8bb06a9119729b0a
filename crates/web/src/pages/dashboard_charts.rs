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
    /// The values are counts (households, persons, findings): the value axis shows
    /// whole numbers only.
    pub counts: bool,
    /// Where each bar leads, by series then category (the list behind the number);
    /// empty: bars link nowhere.
    pub links: Vec<Vec<String>>,
}

/// `text` as an XML attribute value.
fn attr(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Wraps each bar (`charts-rs` marks a bar's `<rect>` with `data-series` and
/// `data-category`) in a link to its list.
fn link_bars(svg: String, series: &[String], categories: &[String], links: &[Vec<String>]) -> String {
    if links.is_empty() {
        return svg;
    }
    let series: Vec<String> = series.iter().map(|s| format!("data-series=\"{}\"", attr(s))).collect();
    let categories: Vec<String> = categories.iter().map(|c| format!("data-category=\"{}\"", attr(c))).collect();
    let mut out = String::with_capacity(svg.len() * 2);
    let mut rest = svg.as_str();
    while let Some(at) = rest.find("<rect") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let head_end = tail.find('>').map_or(tail.len(), |e| e + 1);
        let end = if tail[..head_end].ends_with("/>") {
            head_end
        } else {
            tail.find("</rect>").map_or(head_end, |e| e + "</rect>".len())
        };
        let element = &tail[..end];
        let head = &tail[..head_end];
        let s = series.iter().position(|s| head.contains(s.as_str()));
        let c = categories.iter().position(|c| head.contains(c.as_str()));
        match s.zip(c).and_then(|(s, c)| links.get(s)?.get(c)) {
            Some(href) => {
                out.push_str(&format!("<a href=\"{}\">", attr(href)));
                out.push_str(element);
                out.push_str("</a>");
            }
            None => out.push_str(element),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The value axis of a count chart: a top at or above the largest bar (the largest
/// stack when stacked) that splits into at most five whole steps, and that number of steps.
fn whole_axis(largest: f64) -> (f32, usize) {
    let largest = largest.ceil().max(1.0) as u64;
    let steps = largest.min(5);
    let step = largest.div_ceil(steps);
    ((step * steps) as f32, steps as usize)
}

/// The `<svg>` element sized by its box: `width="100%"` with the drawing's `viewBox`,
/// so the browser scales it to the page's width on a phone and a desktop alike.
fn fit_box(svg: String) -> String {
    let Some(end) = svg.find('>') else { return svg };
    let (head, rest) = svg.split_at(end);
    let mut out = String::with_capacity(svg.len() + 40);
    let mut attrs = head.split(' ').filter(|a| !a.starts_with("width=") && !a.starts_with("height="));
    out.push_str(attrs.next().unwrap_or("<svg"));
    out.push_str(" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\"");
    for a in attrs {
        out.push(' ');
        out.push_str(a);
    }
    out.push_str(rest);
    out
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
    let names: Vec<String> = bars.series.iter().map(|(name, _)| widened(name)).collect();
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
    let largest = if bars.stacked {
        (0..n)
            .map(|i| series.iter().map(|s| f64::from(s.data.get(i).copied().flatten().unwrap_or(0.0))).sum::<f64>())
            .fold(0.0, f64::max)
    } else {
        series.iter().flat_map(|s| s.data.iter().flatten()).map(|v| f64::from(*v)).fold(0.0, f64::max)
    };
    let categories: Vec<String> = bars.categories.iter().map(|c| widened(c)).collect();
    let mut chart = BarChart::new(series, categories.clone());
    if bars.counts
        && let Some(axis) = chart.y_axis_configs.first_mut()
    {
        let (top, steps) = whole_axis(largest);
        axis.min = Some(0.0);
        axis.max = Some(top);
        axis.split_number = steps;
    }
    chart.title.text = widened(bars.title);
    // Drawn no wider than a desktop box, so a phone scales it down less.
    chart.width = (n as f32 * 44.0).clamp(480.0, 960.0);
    chart.height = 340.0;
    chart.legend.show = Some(many);
    chart.svg().ok().map(|svg| link_bars(fit_box(svg), &names, &categories, &bars.links))
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
            counts: true,
            links: vec![vec!["/a?x=1&y=2".into(), "/b".into()], vec!["/c".into(), "/d".into()]],
        })
        .expect("a chart");
        assert!(svg.starts_with("<svg"), "{svg}");
        // Each bar links its list.
        for href in ["/a?x=1&amp;y=2", "/b", "/c", "/d"] {
            assert!(svg.contains(&format!("<a href=\"{href}\"><rect")), "{href} in {svg}");
        }
        for label in ["贫困发生率", "城关镇", "白柳镇", "在册贫困户"] {
            assert!(svg.contains(label), "{label} missing");
        }
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn nothing_to_draw_is_no_chart() {
        let none = bar_svg(Bars {
            title: "x",
            categories: vec![],
            series: vec![],
            stacked: false,
            mark: None,
            counts: true,
            links: vec![],
        });
        assert!(none.is_none());
    }

    /// The texts of an SVG's `<text>` elements.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split('<').next()?.trim().to_owned()))
            .collect()
    }

    #[test]
    fn count_axes_show_whole_numbers_only() {
        for (values, stacked) in
            [(vec![1.0, 0.0], false), (vec![3.0, 1.0], true), (vec![7.0, 2.0], false), (vec![0.0], false)]
        {
            let n = values.len();
            let svg = bar_svg(Bars {
                title: "户数",
                categories: (0..n).map(|i| format!("村{i}")).collect(),
                series: vec![("户", values.clone()), ("人", vec![1.0; n])],
                stacked,
                mark: None,
                counts: true,
                links: vec![],
            })
            .expect("a chart");
            let numbers: Vec<f64> = texts(&svg).iter().filter_map(|t| t.parse::<f64>().ok()).collect();
            assert!(numbers.len() >= 2, "an axis with numbers: {:?}", texts(&svg));
            assert!(numbers.iter().all(|v| v.fract() == 0.0), "{values:?}: {numbers:?}");
        }
        assert_eq!(whole_axis(1.0), (1.0, 1));
        assert_eq!(whole_axis(3.0), (3.0, 3));
        assert_eq!(whole_axis(7.0), (10.0, 5));
        assert_eq!(whole_axis(0.0), (1.0, 1));
    }

    #[test]
    fn a_chart_fits_its_box() {
        let svg = bar_svg(Bars {
            title: "贫困发生率",
            categories: (0..30).map(|i| format!("村{i}")).collect(),
            series: vec![("发生率", vec![2.5; 30])],
            stacked: false,
            mark: Some(3.0),
            counts: false,
            links: vec![],
        })
        .expect("a chart");
        let head = &svg[..svg.find('>').unwrap()];
        assert!(head.contains("width=\"100%\"") && head.contains("viewBox=\"0 0 "), "{head}");
        assert!(!head.contains("height="), "the height follows the width: {head}");
    }
}
