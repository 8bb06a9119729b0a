//! `fupin init`: a registry with its chain key (created, mode 0600), its county's
//! division tree and one admin.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use fupin_domain::division::{DivisionFiles, DivisionTree};
use fupin_store::Store;

use crate::RegistryArgs;

#[derive(Args, Debug)]
pub struct InitArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// 县级区划代码（6 位），如 610981 旬阳市
    #[arg(long, default_value = "610981")]
    pub county: String,
    /// 另一县的区划目录（provinces/cities/areas/streets/villages.csv 五个文件）
    #[arg(long, value_name = "DIR")]
    pub divisions: Option<PathBuf>,
    /// 管理员用户名
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// 管理员密码；不给则随机生成并只打印一次
    #[arg(long, env = "FUPIN_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

pub async fn run(a: InitArgs) -> anyhow::Result<ExitCode> {
    let store = a.registry.open().await?;
    if let Some(existing) = store.meta("county").await? {
        bail!("登记库已经初始化（县级区划 {existing}），未做任何改动");
    }
    let tree = load_tree(&a.county, a.divisions.as_deref())?;
    // The key first: every record from the first one on is keyed.
    let (store, key_file, created) = a.registry.ensure_key(store).await?;
    write_divisions(&store, &tree, &a.county).await?;
    let password = fupin_app::accounts::create_admin(&store, &a.admin, a.admin_password.as_deref()).await?;
    let county = tree.get(&a.county).map(|d| d.name.clone()).unwrap_or_default();
    let towns = tree.at_level(fupin_domain::DivisionLevel::Township).count();
    let villages = tree.at_level(fupin_domain::DivisionLevel::Village).count();
    println!("已建立登记库：{county}（{}），{towns} 个乡镇，{villages} 个村/社区", a.county);
    let key_note = if created { "已新建" } else { "沿用已有的" };
    println!(
        "变更链密钥：{key_note} {}（权限 0600）。请另行备份，并与数据库备份分开保存：没有它无法核对变更记录",
        key_file.display()
    );
    if a.admin_password.is_none() {
        println!("管理员账号：{}  密码：{password}（只显示这一次，请妥善保存）", a.admin);
    } else {
        println!("管理员账号：{}（密码为给定的密码）", a.admin);
    }
    Ok(ExitCode::SUCCESS)
}

/// The shipped 旬阳 tree, or another county's from a five-CSV directory.
pub fn load_tree(county: &str, dir: Option<&std::path::Path>) -> anyhow::Result<DivisionTree> {
    match dir {
        None if county == "610981" => Ok(DivisionTree::builtin_xunyang()),
        None => bail!("本程序只内置了旬阳市（610981）的区划；其他县请用 --divisions 指定区划目录"),
        Some(dir) => {
            let read = |name: &str| -> anyhow::Result<(String, String)> {
                let path = dir.join(name);
                let text = std::fs::read_to_string(&path).with_context(|| format!("读取 {}", path.display()))?;
                Ok((path.display().to_string(), text))
            };
            let (p, c, ar, s, v) = (
                read("provinces.csv")?,
                read("cities.csv")?,
                read("areas.csv")?,
                read("streets.csv")?,
                read("villages.csv")?,
            );
            let files = DivisionFiles {
                provinces: (&p.0, &p.1),
                cities: (&c.0, &c.1),
                areas: (&ar.0, &ar.1),
                streets: (&s.0, &s.1),
                villages: (&v.0, &v.1),
            };
            Ok(DivisionTree::from_files(&files, county)?)
        }
    }
}

/// Writes the tree into the registry (recorded in the change history) and notes the county.
pub async fn write_divisions(store: &Store, tree: &DivisionTree, county: &str) -> anyhow::Result<()> {
    store.write_divisions(tree, county).await?;
    Ok(())
}
