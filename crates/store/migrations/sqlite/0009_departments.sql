-- 部门数据员: the department (data/codes/department.csv, e.g. 03 民政) whose data source
-- a department_officer account sees (data/policy/department_fields.csv); NULL for
-- every other role. Checked by crates/web/src/accounts.rs, not by a constraint, so
-- the code list can grow without a migration.
ALTER TABLE users ADD COLUMN department TEXT;
