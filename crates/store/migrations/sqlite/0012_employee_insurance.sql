-- 是否参加职工基本医疗保险: members insured through an employer (职工医保) rather than
-- 城乡居民基本医疗保险 count as insured in the exit indicators (data/rules/exit.toml).
ALTER TABLE persons ADD COLUMN employee_insurance INTEGER;
