//! 更正: one field of one registry row, from the text a user typed.

use fupin_domain::household_rules;
use fupin_domain::schema::{self, Kind, PERSONS};

use super::{
    Done, Edit, OpError, Outcome, cell, check_heads, check_village, entity_version, finish, members, person_warnings,
    read_field, refuse, relation_of, relations, start, version_on, why,
};
use crate::{Store, Writer};

/// 更正: sets one field of one registry row from the text a user typed, read by the
/// column's kind. Refuses unknown tables and fields, key columns, a person's 户编号
/// (that is a move), required fields left empty, bad values and unknown codes; keeps
/// a failing ID number and returns the problem as a warning.
pub async fn correct_field(
    store: &Store,
    edit: &Edit,
    table: &str,
    key: &str,
    field: &str,
    new_text: &str,
) -> Result<Outcome, OpError> {
    let mut w = start(store, edit).await?;
    let r = correct_in(&mut w, edit, table, key, field, new_text).await;
    finish(store, w, r).await
}

async fn correct_in(
    w: &mut Writer,
    edit: &Edit,
    table_name: &str,
    key: &str,
    field: &str,
    new_text: &str,
) -> Result<Done, OpError> {
    let Some(table) = schema::table(table_name) else {
        return refuse(format!("没有名为 {table_name} 的登记表"));
    };
    let Some(column) = table.column(field) else {
        return refuse(format!("「{}」没有字段 {field}", table.title));
    };
    if table.key.contains(&column.name) {
        return refuse(format!("「{}」是{}的编号，不能更正", column.header, table.title));
    }
    if table.name == PERSONS.name && column.name == "hh_id" {
        return refuse("成员换户请用“迁移成员”，不能直接更正户编号");
    }
    if table.name == PERSONS.name && schema::DEPARTURE_COLUMNS.contains(&column.name) {
        return refuse("成员死亡、婚出或迁出请用“死亡”“婚出”“迁出”登记，不能直接更正人员状态");
    }
    let Some(row) = w.fetch(table, &[key.to_owned()]).await?.remove(key) else {
        return refuse(format!("「{}」中没有 {key}", table.title));
    };
    let hh_id = match table.index_of("hh_id") {
        Some(i) => row[i].as_text().map(str::to_owned),
        None => None,
    };
    if let Some(expected) = edit.expected_version {
        let (what, current) = match &hh_id {
            Some(h) => (format!("户 {h} "), version_on(w.tx(), h).await?),
            None => (format!("{} {key}", table.title), entity_version(w.tx(), table, key).await?),
        };
        if current > expected {
            return Err(OpError::Conflict { subject: what, expected, current });
        }
    }
    let id_type = cell(table, &row, "id_type").unwrap_or_default().to_owned();
    let (i, value, warning) = read_field(table, field, new_text, &id_type)?;
    if column.required && value.is_null() {
        return refuse(format!("「{}」必填，不能清空", column.header));
    }
    if column.kind == Kind::Village
        && let Some(v) = value.as_text()
    {
        check_village(w, v).await?;
    }
    let mut new_row = row.clone();
    new_row[i] = value.clone();
    if table.name == PERSONS.name && column.name == "relation" {
        let hh = hh_id.clone().unwrap_or_default();
        let others = members(w, &hh).await?;
        let before = relations(&others);
        let after: Vec<String> = others
            .iter()
            .map(|r| {
                if cell(&PERSONS, r, "person_id") == Some(key) {
                    relation_of(&new_row).to_owned()
                } else {
                    relation_of(r).to_owned()
                }
            })
            .collect();
        check_heads(&hh, &before, &after)?;
    }
    let mut warnings = Vec::new();
    if table.name == PERSONS.name && household_rules::IDENTITY_COLUMNS.contains(&column.name) {
        warnings.extend(person_warnings(&new_row));
    } else if let Some(note) = warning {
        warnings.push(format!("「{}」{note}", column.header));
    }
    w.set_fields(table, key, &[(column.name, value)], &why(&format!("更正{}", column.header), edit)).await?;
    Ok(Done { created: None, warnings })
}
