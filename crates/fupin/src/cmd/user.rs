//! `fupin user add|disable|enable|reset|role`: the county admin's account management
//! from the server's command line, with the same checks and audit log rows as the
//! `/admin/users` pages (both call `fupin_app::accounts`).

use std::process::ExitCode;

use clap::Subcommand;
use fupin_app::accounts::{self, AccountRequest, ChangedBy};

use crate::RegistryArgs;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// 新建账号；不给 --password 则随机生成并只打印一次
    Add {
        /// 用户名（英文字母、数字或 . _ -）
        username: String,
        /// 角色：county_admin（县级管理员）、township_officer（乡镇干部）、village_cadre（村干部）、
        /// helper_cadre（帮扶责任人）、department_officer（部门数据员）、inspector（督查人员）
        #[arg(long)]
        role: String,
        /// 区划代码：县 6 位、乡镇 9 位、村 12 位，须与角色相符
        #[arg(long, value_name = "CODE")]
        area: String,
        /// 姓名（默认：区域名加角色）
        #[arg(long, default_value = "")]
        name: String,
        /// 初始密码
        #[arg(long, env = "FUPIN_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// 帮扶责任人编号（helper_cadre 账号：“我的农户”列出其结对农户）
        #[arg(long, value_name = "HELPER_ID")]
        helper: Option<String>,
        /// 部门代码或名称（department_officer 账号必填，见 data/codes/department.csv，如 03 或 民政）
        #[arg(long, value_name = "CODE")]
        department: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// 停用账号（不能再登录，已登录的会话立即失效）
    Disable {
        username: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// 重新启用停用的账号
    Enable {
        username: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// 重置密码并解除锁定；不给 --password 则随机生成并只打印一次
    Reset {
        username: String,
        #[arg(long, env = "FUPIN_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// 更改角色，可同时更改区域（--area）
    Role {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long, value_name = "CODE")]
        area: Option<String>,
        /// 帮扶责任人编号（改为 helper_cadre 时关联）
        #[arg(long, value_name = "HELPER_ID")]
        helper: Option<String>,
        /// 部门代码或名称（改为 department_officer 时必填，已是部门数据员则可省略以保留原部门）
        #[arg(long, value_name = "CODE")]
        department: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

pub async fn run(c: UserCommand) -> anyhow::Result<ExitCode> {
    let by = ChangedBy::COMMAND_LINE;
    match c {
        UserCommand::Add { username, role, area, name, password, helper, department, registry } => {
            let store = registry.open_existing().await?;
            let role = accounts::parse_role(&role)?;
            if helper.is_some() && role != fupin_store::users::Role::HelperCadre {
                anyhow::bail!("--helper 只用于帮扶责任人（helper_cadre）账号");
            }
            let request = AccountRequest {
                username: &username,
                display_name: &name,
                role,
                area: &area,
                password: password.as_deref(),
                department: department.as_deref(),
            };
            let password_out = accounts::add_user(&store, by, &request).await?;
            print!("已创建账号 {username}（{}，区划 {}）", role.label(), area.trim());
            if password.is_none() {
                println!("  密码：{password_out}（只显示这一次，请妥善保存）");
            } else {
                println!("（密码为给定的密码）");
            }
            if let Some(helper) = helper {
                accounts::set_helper(&store, by, &username, &helper).await?;
                println!("已关联帮扶责任人 {helper}");
            }
        }
        UserCommand::Disable { username, registry } => {
            let store = registry.open_existing().await?;
            accounts::set_disabled(&store, by, &username, true).await?;
            println!("已停用账号 {username}");
        }
        UserCommand::Enable { username, registry } => {
            let store = registry.open_existing().await?;
            accounts::set_disabled(&store, by, &username, false).await?;
            println!("已启用账号 {username}");
        }
        UserCommand::Reset { username, password, registry } => {
            let store = registry.open_existing().await?;
            let password_out = accounts::reset_password(&store, by, &username, password.as_deref()).await?;
            if password.is_none() {
                println!("已重置账号 {username} 的密码：{password_out}（只显示这一次，请妥善保存）");
            } else {
                println!("已重置账号 {username} 的密码（为给定的密码）");
            }
        }
        UserCommand::Role { username, role, area, helper, department, registry } => {
            let store = registry.open_existing().await?;
            let role = accounts::parse_role(&role)?;
            if helper.is_some() && role != fupin_store::users::Role::HelperCadre {
                anyhow::bail!("--helper 只用于帮扶责任人（helper_cadre）账号");
            }
            accounts::change_role(&store, by, &username, role, area.as_deref(), department.as_deref()).await?;
            println!("已将账号 {username} 改为{}", role.label());
            if let Some(helper) = helper {
                accounts::set_helper(&store, by, &username, &helper).await?;
                println!("已关联帮扶责任人 {helper}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
