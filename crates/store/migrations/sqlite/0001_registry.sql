-- Generated from fupin_domain::schema by crates/store/src/ddl.rs; do not edit by hand.

-- 行政区划
CREATE TABLE divisions (
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    PRIMARY KEY (code)
);

-- 户信息
CREATE TABLE households (
    hh_id TEXT NOT NULL,
    village_code TEXT NOT NULL,
    group_no INTEGER,
    phone TEXT,
    bank_name TEXT,
    bank_account TEXT,
    status TEXT NOT NULL,
    standard TEXT,
    attribute TEXT,
    identified_year INTEGER,
    planned_exit_year INTEGER,
    exit_year INTEGER,
    relapse_year INTEGER,
    monitor_type TEXT,
    monitor_since TEXT,
    risk1 TEXT,
    risk1_on TEXT,
    risk2 TEXT,
    risk2_on TEXT,
    risk3 TEXT,
    risk3_on TEXT,
    risk4 TEXT,
    risk4_on TEXT,
    risk5 TEXT,
    risk5_on TEXT,
    risk_cleared_on TEXT,
    main_cause TEXT,
    other_cause1 TEXT,
    other_cause2 TEXT,
    military_family INTEGER,
    one_child INTEGER,
    two_daughters INTEGER,
    farmland_mu REAL,
    irrigated_mu REAL,
    forest_mu REAL,
    returned_forest_mu REAL,
    orchard_mu REAL,
    pasture_mu REAL,
    water_surface_mu REAL,
    farm_power INTEGER,
    home_power INTEGER,
    radio_tv INTEGER,
    water_difficult INTEGER,
    water_safe INTEGER,
    road_km REAL,
    path_type TEXT,
    house_area REAL,
    dangerous_house INTEGER,
    danger_grade TEXT,
    toilet INTEGER,
    fuel TEXT,
    coop INTEGER,
    relocation_type TEXT,
    relocation_mode TEXT,
    relocation_site TEXT,
    relocation_site_code TEXT,
    relocation_year INTEGER,
    relocation_area REAL,
    old_house_demolished INTEGER,
    PRIMARY KEY (hh_id)
);

-- 帮扶责任人
CREATE TABLE helpers (
    helper_id TEXT NOT NULL,
    name TEXT NOT NULL,
    id_number TEXT,
    unit TEXT,
    unit_level TEXT,
    phone TEXT,
    PRIMARY KEY (helper_id)
);

-- 家庭成员
CREATE TABLE persons (
    person_id TEXT NOT NULL,
    hh_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sex TEXT,
    birth_date TEXT,
    id_type TEXT,
    id_number TEXT,
    relation TEXT NOT NULL,
    ethnicity TEXT,
    political TEXT,
    education TEXT,
    school_status TEXT,
    health TEXT,
    disease TEXT,
    disability_cert TEXT,
    labour TEXT,
    skills TEXT,
    trained INTEGER,
    migrant_place TEXT,
    migrant_months INTEGER,
    employer TEXT,
    medical_insurance INTEGER,
    critical_insurance INTEGER,
    pension_insurance INTEGER,
    dibao INTEGER,
    tekun INTEGER,
    active_soldier INTEGER,
    phone TEXT,
    PRIMARY KEY (person_id)
);

-- 收入情况
CREATE TABLE incomes (
    hh_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    members INTEGER,
    wages INTEGER,
    planting INTEGER,
    breeding INTEGER,
    other_business INTEGER,
    business_costs INTEGER,
    dividend INTEGER,
    other_property INTEGER,
    family_planning INTEGER,
    dibao_money INTEGER,
    tekun_money INTEGER,
    pension_money INTEGER,
    eco_money INTEGER,
    other_transfer INTEGER,
    medical_spending INTEGER,
    school_spending INTEGER,
    net_per_capita INTEGER,
    PRIMARY KEY (hh_id, year)
);

-- 村基本情况
CREATE TABLE village_years (
    village_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    poor_village INTEGER,
    village_exit_year INTEGER,
    paved_road INTEGER,
    bus INTEGER,
    clinic INTEGER,
    collective_economy INTEGER,
    collective_income INTEGER,
    power_all INTEGER,
    safe_water INTEGER,
    PRIMARY KEY (village_code, year)
);

-- 结对帮扶
CREATE TABLE pairings (
    helper_id TEXT NOT NULL,
    hh_id TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT,
    PRIMARY KEY (helper_id, hh_id, from_date)
);

CREATE INDEX households_village ON households (village_code);
CREATE INDEX persons_household ON persons (hh_id);
CREATE INDEX persons_id_number ON persons (id_number);
CREATE INDEX persons_name ON persons (name);
CREATE INDEX pairings_household ON pairings (hh_id);
CREATE INDEX divisions_parent ON divisions (parent_code);

-- 变更记录: the append-only, hash-chained change history.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    op TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX change_log_entity ON change_log (entity, entity_key, seq);

-- Settings of this registry (county code, creation date): not registry data.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('chain', 'lock');
