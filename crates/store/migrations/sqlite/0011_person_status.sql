-- 人员状态 and 减员日期 (fupin_domain::schema::ADDED_COLUMNS): a person who died,
-- married out or moved out of the county keeps the row as history instead of being
-- deleted. An empty 人员状态 means 1 在户 (present), so existing rows need no update.
ALTER TABLE persons ADD COLUMN person_status TEXT;
ALTER TABLE persons ADD COLUMN left_on TEXT;
