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
    group_no BIGINT,
    phone TEXT,
    bank_name TEXT,
    bank_account TEXT,
    status TEXT NOT NULL,
    standard TEXT,
    attribute TEXT,
    identified_year BIGINT,
    planned_exit_year BIGINT,
    exit_year BIGINT,
    relapse_year BIGINT,
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
    military_family BIGINT,
    one_child BIGINT,
    two_daughters BIGINT,
    farmland_mu DOUBLE PRECISION,
    irrigated_mu DOUBLE PRECISION,
    forest_mu DOUBLE PRECISION,
    returned_forest_mu DOUBLE PRECISION,
    orchard_mu DOUBLE PRECISION,
    pasture_mu DOUBLE PRECISION,
    water_surface_mu DOUBLE PRECISION,
    farm_power BIGINT,
    home_power BIGINT,
    radio_tv BIGINT,
    water_difficult BIGINT,
    water_safe BIGINT,
    road_km DOUBLE PRECISION,
    path_type TEXT,
    house_area DOUBLE PRECISION,
    dangerous_house BIGINT,
    danger_grade TEXT,
    toilet BIGINT,
    fuel TEXT,
    coop BIGINT,
    relocation_type TEXT,
    relocation_mode TEXT,
    relocation_site TEXT,
    relocation_site_code TEXT,
    relocation_year BIGINT,
    relocation_area DOUBLE PRECISION,
    old_house_demolished BIGINT,
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
    trained BIGINT,
    migrant_place TEXT,
    migrant_months BIGINT,
    employer TEXT,
    medical_insurance BIGINT,
    critical_insurance BIGINT,
    pension_insurance BIGINT,
    dibao BIGINT,
    tekun BIGINT,
    active_soldier BIGINT,
    phone TEXT,
    PRIMARY KEY (person_id)
);

-- 收入情况
CREATE TABLE incomes (
    hh_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    members BIGINT,
    wages BIGINT,
    planting BIGINT,
    breeding BIGINT,
    other_business BIGINT,
    business_costs BIGINT,
    dividend BIGINT,
    other_property BIGINT,
    family_planning BIGINT,
    dibao_money BIGINT,
    tekun_money BIGINT,
    pension_money BIGINT,
    eco_money BIGINT,
    other_transfer BIGINT,
    medical_spending BIGINT,
    school_spending BIGINT,
    net_per_capita BIGINT,
    PRIMARY KEY (hh_id, year)
);

-- 村基本情况
CREATE TABLE village_years (
    village_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    poor_village BIGINT,
    village_exit_year BIGINT,
    paved_road BIGINT,
    bus BIGINT,
    clinic BIGINT,
    collective_economy BIGINT,
    collective_income BIGINT,
    power_all BIGINT,
    safe_water BIGINT,
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
    seq BIGINT PRIMARY KEY,
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
