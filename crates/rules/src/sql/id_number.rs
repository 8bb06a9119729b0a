//! The ID-number functions in SQL both engines run (GB 11643: `id_valid`,
//! `id_birth_date`, `id_sex`, `id_checksum_ok`), without regular expressions.

use crate::ir::IdPart;

/// `id_valid`, `id_birth_date`, `id_sex` of `x` ([`IdPart`]): the casts sit inside
/// branches only a valid number reaches.
pub(super) fn id_part_sql(part: IdPart, x: &str) -> String {
    let valid = format!(
        "(CASE WHEN COALESCE({}, FALSE) THEN CAST(SUBSTR({x}, 7, 4) AS BIGINT) BETWEEN 1880 AND 2100 ELSE FALSE END)",
        id_checksum_sql(x)
    );
    match part {
        IdPart::Valid => format!("(CASE WHEN {x} IS NULL THEN NULL ELSE {valid} END)"),
        IdPart::BirthDate => format!(
            "(CASE WHEN {valid} THEN SUBSTR({x}, 7, 4) || '-' || SUBSTR({x}, 11, 2) || '-' || SUBSTR({x}, 13, 2) END)"
        ),
        IdPart::Sex => format!(
            "(CASE WHEN {valid} THEN (CASE WHEN CAST(SUBSTR({x}, 17, 1) AS BIGINT) % 2 = 1 THEN '1' ELSE '2' END) END)"
        ),
    }
}

/// `id_checksum_ok(x)` in SQL both engines run: digits are found by deleting them
/// (no regular expressions in SQLite), and the casts sit inside `CASE` branches that
/// only digits reach.
pub(super) fn id_checksum_sql(x: &str) -> String {
    let mut digits = format!("SUBSTR({x}, 1, 17)");
    for d in 0..10 {
        digits = format!("REPLACE({digits}, '{d}', '')");
    }
    let n = |from: usize, len: usize| format!("CAST(SUBSTR({x}, {from}, {len}) AS BIGINT)");
    let (y, m, d) = (n(7, 4), n(11, 2), n(13, 2));
    let days = format!(
        "CASE WHEN {m} = 2 THEN (CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 THEN 29 ELSE 28 END) \
         WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    );
    let sum: Vec<String> =
        crate::eval::ID_WEIGHTS.iter().enumerate().map(|(i, w)| format!("{} * {w}", n(i + 1, 1))).collect();
    let check = format!(
        "SUBSTR(CAST('{}' AS TEXT), CAST(({}) % 11 + 1 AS INTEGER), 1)",
        crate::eval::ID_CHECK_CHARS,
        sum.join(" + ")
    );
    format!(
        "(CASE WHEN LENGTH({x}) = 18 AND LENGTH({digits}) = 0 THEN \
         (CASE WHEN {m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND ({days}) \
         THEN UPPER(SUBSTR({x}, 18, 1)) = {check} END) END)"
    )
}
