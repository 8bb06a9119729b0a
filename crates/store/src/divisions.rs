//! Writing a county's division tree into the registry, as `fupin init` does.

use fupin_domain::schema::DIVISIONS;
use fupin_domain::{DivisionTree, Value};

use crate::writer::RowIn;
use crate::{Actor, Store, StoreError};

impl Store {
    /// Writes the county `county` of `tree` (recorded in the change history as the
    /// system's) and notes the county and its province in `meta`.
    pub async fn write_divisions(&self, tree: &DivisionTree, county: &str) -> Result<(), StoreError> {
        let rows: Vec<RowIn> = tree
            .divisions
            .values()
            .filter(|d| d.code.as_str().starts_with(county))
            .map(|d| RowIn {
                values: vec![
                    Value::Text(d.code.to_string()),
                    Value::Text(d.name.clone()),
                    Value::Text(d.level().as_str().into()),
                    d.parent.as_ref().map(|p| Value::Text(p.to_string())).unwrap_or(Value::Null),
                ],
                source: None,
            })
            .collect();
        let mut w = self.writer(Actor::System).await?;
        w.upsert(&DIVISIONS, rows, "初始化区划").await?;
        w.commit().await?;
        self.set_meta("county", county).await?;
        self.set_meta("province", county.get(..2).unwrap_or_default()).await?;
        Ok(())
    }
}
