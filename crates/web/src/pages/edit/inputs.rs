//! The inputs of the change forms: which fields each change asks for, the choices
//! of its selects (codes, members), and what was typed put back after a refusal.

use fupin_app::edits::{Change, Fields, Household};
use fupin_domain::HouseholdId;
use fupin_domain::household_rules;
use fupin_domain::schema::{self, HOUSEHOLDS, Kind, PERSONS};
use fupin_store::views;

use crate::display::{field, raw, scrub_ids};
use crate::i18n::Tr;
use crate::{AppState, WebError};

/// One choice of a select or a checkbox list.
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One input of a form: `kind` is `text`, `date`, `select`, `checks` or `textarea`.
pub(super) struct Input {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub choices: Vec<Choice>,
    pub required: bool,
    pub hint: String,
}

impl Input {
    pub(super) fn new(name: &str, label: &str, kind: &'static str) -> Input {
        Input {
            name: name.to_owned(),
            label: label.to_owned(),
            kind,
            value: String::new(),
            choices: Vec::new(),
            required: false,
            hint: String::new(),
        }
    }
    pub(super) fn required(mut self) -> Input {
        self.required = true;
        self
    }
    pub(super) fn hint(mut self, hint: &str) -> Input {
        self.hint = hint.to_owned();
        self
    }
    pub(super) fn choices(mut self, choices: Vec<(String, String)>) -> Input {
        self.choices = choices.into_iter().map(|(value, label)| Choice { value, label, selected: false }).collect();
        self
    }
    pub(super) fn value(mut self, value: &str) -> Input {
        self.value = value.to_owned();
        self
    }
}

/// The codes of a list as choices (`only` some of them), after a blank one if given.
pub(super) fn code_choices(
    state: &AppState,
    list: &str,
    only: Option<&[&str]>,
    blank: Option<&str>,
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = blank.map(|b| vec![(String::new(), b.to_owned())]).unwrap_or_default();
    if let Some(l) = state.codes.get(list) {
        out.extend(
            l.codes
                .iter()
                .filter(|c| only.is_none_or(|o| o.contains(&c.code.as_str())))
                .map(|c| (c.code.clone(), format!("{} {}", c.code, c.label))),
        );
    }
    out
}

/// The fields of a new person (出生, 婚入, 新增农户's head), the relation chosen
/// among those `allowed`.
pub(super) fn person_inputs(t: Tr, state: &AppState, allowed: fn(&str) -> bool, default_relation: &str) -> Vec<Input> {
    let relations = code_choices(state, "relation", None, None).into_iter().filter(|(c, _)| allowed(c)).collect();
    vec![
        Input::new("name", t.t("person.name"), "text").required(),
        Input::new("sex", t.t("edit.sex"), "select").choices(code_choices(
            state,
            "sex",
            None,
            Some(t.t("edit.choose")),
        )),
        Input::new("ethnicity", t.t("person.ethnicity"), "select").choices(code_choices(
            state,
            "ethnicity",
            None,
            Some(t.t("edit.choose")),
        )),
        Input::new("birth_date", t.t("person.birth"), "date"),
        Input::new("relation", t.t("person.relation"), "select").required().choices(relations).value(default_relation),
        Input::new("id_number", t.t("edit.id_number"), "text").hint(t.t("edit.id_number.hint")),
    ]
}

/// 原因, required on every form.
pub(super) fn reason_input(t: Tr) -> Input {
    Input::new("reason", t.t("edit.reason"), "textarea").required().hint(t.t("edit.reason.hint"))
}

/// A household's members as choices: 人编号 and 姓名（与户主关系）.
fn member_choices(state: &AppState, hh: &Household) -> Vec<(String, String)> {
    hh.persons
        .iter()
        .map(|p| {
            let rel = field(&PERSONS, p, "relation", &state.codes);
            (raw(&PERSONS, p, "person_id"), format!("{}（{rel}）", raw(&PERSONS, p, "name")))
        })
        .collect()
}

/// The registry columns a correction may change, as `table.column` with its header.
fn correctable(t: Tr) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (table, prefix) in [(&HOUSEHOLDS, t.t("edit.correct.household")), (&PERSONS, t.t("edit.correct.person"))] {
        for c in table.columns {
            if table.key.contains(&c.name) || c.name == "hh_id" || schema::DEPARTURE_COLUMNS.contains(&c.name) {
                continue;
            }
            out.push((
                format!("{}.{}", table.name, c.name),
                t.f2("edit.correct.field", "what", prefix, "header", c.header),
            ));
        }
    }
    out
}

/// The inputs of a change's form for a household.
pub(super) fn inputs_for(t: Tr, change: Change, state: &AppState, hh: &Household) -> Vec<Input> {
    let members = member_choices(state, hh);
    let mut with_blank = vec![(String::new(), t.t("edit.not_needed").to_owned())];
    with_blank.extend(members.clone());
    let person = || Input::new("person", t.t("edit.person"), "select").required().choices(members.clone());
    let new_head = || {
        Input::new("new_head", t.t("edit.new_head"), "select")
            .choices(with_blank.clone())
            .hint(t.t("edit.new_head.hint"))
    };
    let mut inputs = match change {
        Change::Birth => person_inputs(t, state, household_rules::birth_relation_allowed, "03"),
        Change::MarriageIn => person_inputs(t, state, |r| household_rules::MARRIAGE_IN_RELATIONS.contains(&r), "05"),
        Change::Death => vec![person(), Input::new("date", t.t("edit.death.date"), "date").required(), new_head()],
        Change::MarriageOut => vec![person(), Input::new("date", t.t("edit.marriage_out.date"), "date"), new_head()],
        Change::MoveOut => vec![person(), Input::new("date", t.t("edit.move_out.date"), "date").required(), new_head()],
        Change::Move => vec![
            person(),
            Input::new("to_hh", t.t("edit.move.to_hh"), "text").required(),
            Input::new("relation", t.t("edit.move.relation"), "select").required().choices(code_choices(
                state,
                "relation",
                None,
                Some(t.t("edit.choose")),
            )),
            new_head().hint(t.t("edit.move.new_head.hint")),
        ],
        Change::Correct => {
            let mut targets = vec![("household".to_owned(), t.t("edit.correct.this_household").to_owned())];
            targets.extend(members.clone());
            vec![
                Input::new("target", t.t("edit.correct.target"), "select").required().choices(targets),
                Input::new("field", t.t("household.history.field"), "select").required().choices(correctable(t)),
                Input::new("value", t.t("edit.correct.value"), "text").hint(t.t("edit.correct.value.hint")),
            ]
        }
        Change::Split => {
            let mut v = vec![
                Input::new("member", t.t("edit.split.members"), "checks").required().choices(members.clone()),
                Input::new("new_head", t.t("edit.split.new_head"), "select").required().choices(members.clone()),
                Input::new("remaining_head", t.t("edit.split.remaining_head"), "select")
                    .choices(with_blank.clone())
                    .hint(t.t("edit.split.remaining_head.hint")),
            ];
            for p in &hh.persons {
                let id = raw(&PERSONS, p, "person_id");
                let label = t.f1("edit.split.relation", "name", raw(&PERSONS, p, "name"));
                v.push(
                    Input::new(&format!("rel_{id}"), &label, "select")
                        .choices(code_choices(state, "relation", None, Some(t.t("edit.unchanged"))))
                        .hint(t.t("edit.split.relation.hint")),
                );
            }
            v
        }
        Change::Merge => {
            let mut v = vec![Input::new("into_hh", t.t("edit.merge.into_hh"), "text").required()];
            for p in &hh.persons {
                let id = raw(&PERSONS, p, "person_id");
                let label = t.f1("edit.merge.relation", "name", raw(&PERSONS, p, "name"));
                v.push(
                    Input::new(&format!("rel_{id}"), &label, "select")
                        .required()
                        .choices(code_choices(state, "relation", None, None))
                        .value(&raw(&PERSONS, p, "relation")),
                );
            }
            v
        }
    };
    inputs.push(reason_input(t));
    inputs
}

/// Fills inputs with what was typed (after a refusal or a conflict), except anything
/// that looks like an ID or phone number: those leave the server only masked, so the
/// user types them again.
pub(super) fn fill(inputs: &mut [Input], typed: &Fields) {
    for input in inputs {
        if input.kind == "checks" {
            let chosen = typed.all(&input.name);
            for c in &mut input.choices {
                c.selected = chosen.contains(&c.value.as_str());
            }
        } else if let Some(v) = typed.first(&input.name)
            && scrub_ids(v) == v
        {
            input.value = v.to_owned();
        }
    }
}

/// Marks the choice of each select that matches its value.
pub(super) fn mark_selected(inputs: &mut [Input]) {
    for input in inputs {
        if input.kind == "select" {
            for c in &mut input.choices {
                c.selected = c.value == input.value;
            }
        }
    }
}

/// A correction of a coded field (one code) offers its codes, the current value of the
/// chosen row selected (or what was typed), instead of a text box.
pub(super) async fn pick_list(
    t: Tr,
    state: &AppState,
    hh: &Household,
    typed: Option<&Fields>,
    inputs: &mut [Input],
) -> Result<(), WebError> {
    let Some(typed) = typed else { return Ok(()) };
    let (table, column) = typed.get("field").split_once('.').unwrap_or_default();
    let Some(col) = schema::table(table).and_then(|tb| tb.column(column)) else { return Ok(()) };
    let Kind::Code(list) = col.kind else { return Ok(()) };
    let current = match (typed.get("value"), table) {
        (v, _) if !v.is_empty() => v.to_owned(),
        (_, "households") => {
            views::household(&state.store, &HouseholdId::parse(&hh.hh_id).map_err(|_| WebError::NotFound)?)
                .await?
                .map(|r| raw(&HOUSEHOLDS, &r, column))
                .unwrap_or_default()
        }
        _ => hh
            .persons
            .iter()
            .find(|p| raw(&PERSONS, p, "person_id") == typed.get("target"))
            .map(|p| raw(&PERSONS, p, column))
            .unwrap_or_default(),
    };
    if let Some(input) = inputs.iter_mut().find(|i| i.name == "value") {
        *input = Input::new("value", t.t("edit.correct.value"), "select")
            .choices(code_choices(state, list, None, Some(t.t("edit.choose"))))
            .value(&current);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_numbers_are_not_echoed() {
        let mut inputs = vec![Input::new("id_number", "证件号码", "text"), Input::new("name", "姓名", "text")];
        let typed = Fields(vec![("id_number".into(), "610981198001010016".into()), ("name".into(), "张三".into())]);
        fill(&mut inputs, &typed);
        assert_eq!(inputs[0].value, "");
        assert_eq!(inputs[1].value, "张三");
    }
}
