//! Data files the registry is configured with: code lists, policy lines, divisions.
//! Any text ends in a value or an error naming the place, never a panic.
#![no_main]

use fupin_domain::codes::CodeList;
use fupin_domain::division::{DivisionFiles, DivisionLevel, DivisionTree};
use fupin_domain::policy::PolicyLines;
use libfuzzer_sys::fuzz_target;

const PROVINCES: &str = "code,name\n61,陕西省\n";
const CITIES: &str = "code,name,provinceCode\n6109,安康市,61\n";
const AREAS: &str = "code,name,cityCode,provinceCode\n610981,旬阳市,6109,61\n";
const STREETS: &str = "code,name,areaCode,cityCode,provinceCode\n610981105,蜀河镇,610981,6109,61\n";

fuzz_target!(|text: &str| {
    if let Ok(list) = CodeList::parse("x", "x.csv", text) {
        for c in &list.codes {
            assert!(!c.code.is_empty() && !c.label.is_empty());
            assert_eq!(list.get(&c.code), Some(c));
            let _ = c.valid_in(2020);
        }
    }

    if let Ok(lines) = PolicyLines::parse("lines.csv", text) {
        for year in [i32::MIN, 2015, 2021, i32::MAX] {
            let _ = lines.for_year(year, "61");
        }
    }

    // The text as the villages file, and as each other file of the layout.
    let mut layouts = vec![DivisionFiles {
        provinces: ("provinces.csv", PROVINCES),
        cities: ("cities.csv", CITIES),
        areas: ("areas.csv", AREAS),
        streets: ("streets.csv", STREETS),
        villages: ("villages.csv", text),
    }];
    layouts.push(DivisionFiles { areas: ("areas.csv", text), villages: ("villages.csv", ""), ..layouts[0] });
    layouts.push(DivisionFiles { streets: ("streets.csv", text), villages: ("villages.csv", ""), ..layouts[0] });
    for files in &layouts {
        let Ok(tree) = DivisionTree::from_files(files, "610981") else { continue };
        let county = tree.get("610981").expect("the county is in its tree");
        assert_eq!(county.level(), DivisionLevel::County);
        for d in tree.divisions.values() {
            assert!(d.code.within(&county.code) || county.code.within(&d.code), "{} outside", d.code);
            assert!(!d.name.is_empty());
            if let Some(p) = &d.parent {
                assert!(d.code.within(p));
            }
            let _ = tree.children(&d.code).count();
        }
        for level in [DivisionLevel::Township, DivisionLevel::Village] {
            let _ = tree.at_level(level).count();
        }
    }
    // The county argument is text too.
    let files = DivisionFiles { villages: ("villages.csv", ""), ..layouts.swap_remove(0) };
    let _ = DivisionTree::from_files(&files, text);
});
