-- 问题清单: what `fupin check` found, one row per (rule, entity, policy year), kept as
-- a worklist until it is fixed or explained. Not registry data: written by hand
-- (see crates/store/src/findings.rs), not through the change history.
CREATE TABLE findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The rule (its id in the rule file) and its set (the file stem).
    rule_id TEXT NOT NULL,
    rule_set TEXT NOT NULL,
    -- error | warning | info, and person | household | village | township | county,
    -- as the rule said when the finding was last seen.
    severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    level TEXT NOT NULL,
    -- The entity judged: 人编号 (person level), 户编号 (household level) or the
    -- division code (village and above).
    entity_key TEXT NOT NULL,
    -- Where it lives, for worklists by household and division (NULL when unknown).
    hh_id TEXT,
    person_id TEXT,
    village_code TEXT,
    -- The policy year judged.
    year INTEGER NOT NULL,
    -- The rule's values as a JSON object {name: shown text}, and the explanation as
    -- rendered; the same with personal values (证件号码, 电话, 账号) masked, for pages
    -- and downloads that do not reveal them.
    value_json TEXT NOT NULL,
    explanation TEXT NOT NULL,
    masked_value_json TEXT NOT NULL,
    masked_explanation TEXT NOT NULL,
    -- RFC 3339 UTC: the first and the latest run that found it failing.
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'explained', 'fixed')),
    -- The run that found it no longer failing (status fixed).
    fixed_at TEXT,
    -- The explanation workflow: a cadre proposes with a reason; an error-level
    -- finding is explained only once a township officer confirms.
    proposed_by TEXT,
    proposed_reason TEXT,
    proposed_at TEXT,
    confirmed_by TEXT,
    confirmed_at TEXT,
    UNIQUE (rule_id, entity_key, year)
);
CREATE INDEX findings_year_rule ON findings (year, rule_id, status);
CREATE INDEX findings_village ON findings (village_code, status);
CREATE INDEX findings_household ON findings (hh_id, status);
