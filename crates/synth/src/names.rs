//! Word lists: names, diseases, skills, employers, helper units and banks. Kept as
//! plain arrays so generation allocates only the strings it emits.

use crate::rnd::{self, Rng8};

/// Surnames with rough weights for southern Shaanxi (旬阳 has many 柯, 邹, 汪, 程).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 70),
    ("李", 65),
    ("张", 60),
    ("刘", 50),
    ("陈", 40),
    ("杨", 35),
    ("赵", 20),
    ("黄", 15),
    ("周", 20),
    ("吴", 15),
    ("徐", 12),
    ("孙", 10),
    ("胡", 18),
    ("朱", 10),
    ("高", 12),
    ("林", 6),
    ("何", 12),
    ("郭", 10),
    ("马", 10),
    ("罗", 12),
    ("梁", 6),
    ("宋", 8),
    ("郑", 8),
    ("谢", 6),
    ("韩", 6),
    ("唐", 8),
    ("冯", 8),
    ("于", 5),
    ("董", 6),
    ("萧", 3),
    ("程", 15),
    ("曹", 8),
    ("袁", 8),
    ("邓", 8),
    ("许", 6),
    ("傅", 4),
    ("沈", 4),
    ("曾", 6),
    ("彭", 6),
    ("吕", 5),
    ("苏", 5),
    ("卢", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("贾", 5),
    ("丁", 5),
    ("魏", 6),
    ("薛", 4),
    ("叶", 4),
    ("阎", 3),
    ("余", 8),
    ("潘", 4),
    ("杜", 6),
    ("戴", 3),
    ("夏", 4),
    ("钟", 4),
    ("汪", 14),
    ("田", 8),
    ("任", 6),
    ("姜", 4),
    ("范", 5),
    ("方", 4),
    ("石", 6),
    ("姚", 5),
    ("谭", 5),
    ("廖", 4),
    ("邹", 14),
    ("熊", 5),
    ("金", 3),
    ("陆", 3),
    ("郝", 3),
    ("孔", 2),
    ("白", 5),
    ("崔", 3),
    ("康", 4),
    ("毛", 4),
    ("邱", 4),
    ("秦", 4),
    ("江", 4),
    ("史", 3),
    ("顾", 2),
    ("侯", 4),
    ("邵", 3),
    ("孟", 3),
    ("龙", 3),
    ("万", 4),
    ("段", 4),
    ("雷", 6),
    ("钱", 2),
    ("汤", 3),
    ("尹", 3),
    ("黎", 2),
    ("易", 3),
    ("常", 3),
    ("武", 3),
    ("乔", 3),
    ("贺", 4),
    ("赖", 2),
    ("龚", 3),
    ("文", 3),
    ("柯", 16),
    ("庞", 3),
    ("向", 5),
    ("屈", 4),
    ("冉", 3),
    ("封", 2),
    ("孔", 1),
    ("明", 2),
    ("储", 2),
    ("甘", 2),
    ("党", 3),
    ("巴", 2),
];

const MALE_OLD: &[&str] = &[
    "德", "明", "国", "成", "华", "富", "贵", "荣", "林", "山", "全", "海", "发", "有", "才", "中", "兴", "友", "家",
    "福", "忠", "清", "正", "文", "武", "生", "顺", "宝", "春", "昌", "平", "义",
];
const MALE_MID: &[&str] = &[
    "军", "伟", "勇", "强", "斌", "波", "涛", "东", "建", "刚", "平", "辉", "红", "兵", "锋", "峰", "杰", "磊", "超",
    "鹏", "亮", "林", "华", "俊", "明", "新", "宏", "志", "安", "康", "庆", "云",
];
const MALE_NEW: &[&str] = &[
    "浩", "宇", "轩", "博", "子", "梓", "睿", "俊", "泽", "晨", "阳", "航", "鑫", "豪", "一", "铭", "昊", "天", "皓",
    "瑞", "杰", "烨", "凯", "嘉", "煜", "然", "逸", "晟", "翔", "文", "思", "成",
];
const FEMALE_OLD: &[&str] = &[
    "秀", "英", "兰", "桂", "芳", "珍", "凤", "玉", "梅", "菊", "花", "莲", "翠", "琴", "香", "云", "芝", "霞", "荣",
    "娥", "巧", "爱", "素", "淑", "月", "春", "华", "金", "银", "彩", "明", "贞",
];
const FEMALE_MID: &[&str] = &[
    "丽", "娟", "敏", "静", "燕", "艳", "红", "霞", "玲", "芳", "萍", "琳", "莉", "丹", "娜", "婷", "慧", "颖", "雪",
    "晶", "倩", "佳", "媛", "洁", "蓉", "利", "平", "琼", "春", "梅", "艳", "英",
];
const FEMALE_NEW: &[&str] = &[
    "欣", "怡", "涵", "萱", "梓", "雨", "诗", "悦", "可", "馨", "琪", "妍", "佳", "彤", "思", "语", "若", "子", "一",
    "瑶", "晨", "茜", "雅", "婷", "心", "月", "然", "依", "梦", "嘉", "安", "宁",
];

/// A surname by weight.
pub fn surname(rng: &mut Rng8) -> &'static str {
    rnd::weighted(rng, SURNAMES)
}

/// A full name for a person of this sex born in this year: surname plus one or two
/// given-name characters in the fashion of the birth decade.
pub fn full_name(rng: &mut Rng8, surname: &str, male: bool, birth_year: i32) -> String {
    let chars: &[&str] = match (male, birth_year) {
        (true, ..=1959) => MALE_OLD,
        (true, 1960..=1989) => MALE_MID,
        (true, _) => MALE_NEW,
        (false, ..=1959) => FEMALE_OLD,
        (false, 1960..=1989) => FEMALE_MID,
        (false, _) => FEMALE_NEW,
    };
    let mut s = String::with_capacity(12);
    s.push_str(surname);
    let two = if birth_year < 1960 { 0.75 } else { 0.6 };
    s.push_str(rnd::pick(rng, chars));
    if rnd::chance(rng, two) {
        s.push_str(rnd::pick(rng, chars));
    }
    s
}

/// 长期慢性病 names.
pub const CHRONIC: &[&str] = &[
    "高血压",
    "糖尿病",
    "冠心病",
    "慢性阻塞性肺疾病",
    "类风湿性关节炎",
    "慢性支气管炎",
    "腰椎间盘突出",
    "慢性胃炎",
    "哮喘",
    "慢性肾炎",
    "风湿性心脏病",
    "肺结核",
    "甲状腺功能亢进",
];
/// 大病 names.
pub const SERIOUS: &[&str] = &[
    "恶性肿瘤",
    "尿毒症",
    "脑卒中后遗症",
    "白血病",
    "重性精神病",
    "肝硬化",
    "先天性心脏病",
    "癫痫",
    "帕金森病",
    "重度再生障碍性贫血",
];

/// 掌握实用技术 texts.
pub const SKILLS: &[&str] = &[
    "种植技术",
    "养殖技术",
    "电焊",
    "厨师",
    "家政服务",
    "建筑瓦工",
    "汽车驾驶",
    "茶叶种植",
    "魔芋种植",
    "拐枣种植加工",
    "烤烟种植",
    "电工",
    "缝纫",
    "木工",
    "钢筋工",
    "食用菌栽培",
    "生猪养殖",
    "中药材种植",
    "电子商务",
    "挖掘机操作",
];

/// Employers by 务工区域 code (1 乡内, 2 县内, 3 省内, 4 省外).
pub fn employer(rng: &mut Rng8, place: &str) -> &'static str {
    const LOCAL: &[&str] =
        &["新社区工厂（毛绒玩具）", "村集体经济合作社", "镇农业产业园", "拐枣加工厂", "新社区工厂（电子配件）"];
    const COUNTY: &[&str] =
        &["旬阳市建筑工程公司", "旬阳市新社区工厂", "旬阳市拐枣产业园", "旬阳市物流园", "旬阳市农产品加工企业"];
    const PROVINCE: &[&str] =
        &["西安市建筑工地", "安康市高新区企业", "西安市餐饮企业", "宝鸡市制造企业", "安康市新社区工厂"];
    const OUTSIDE: &[&str] = &[
        "广东省东莞市电子厂",
        "浙江省宁波市服装厂",
        "江苏省苏州市电子厂",
        "新疆维吾尔自治区建筑工地",
        "上海市物流公司",
        "北京市建筑工地",
        "山西省煤矿",
        "福建省晋江市鞋厂",
        "湖北省十堰市汽车配件厂",
    ];
    let list = match place {
        "1" => LOCAL,
        "2" => COUNTY,
        "3" => PROVINCE,
        _ => OUTSIDE,
    };
    rnd::pick(rng, list)
}

/// 帮扶单位 names by 单位级别 (1 省直 … 5 村级); `town` and `village` name the place.
pub fn unit(rng: &mut Rng8, level: u8, town: &str, village: &str) -> String {
    const PROVINCE: &[&str] =
        &["陕西省农业农村厅", "陕西省交通运输厅", "陕西省卫生健康委员会", "陕西省教育厅", "陕西省水利厅"];
    const CITY: &[&str] =
        &["安康市财政局", "安康市人力资源和社会保障局", "安康市住房和城乡建设局", "安康市民政局", "安康市乡村振兴局"];
    const COUNTY: &[&str] = &[
        "旬阳市教育体育局",
        "旬阳市卫生健康局",
        "旬阳市农业农村局",
        "旬阳市民政局",
        "旬阳市财政局",
        "旬阳市住房和城乡建设局",
        "旬阳市交通运输局",
        "旬阳市水利局",
        "旬阳市乡村振兴局",
        "旬阳市人力资源和社会保障局",
        "旬阳市自然资源局",
        "旬阳市林业局",
        "旬阳市审计局",
        "旬阳市市场监督管理局",
        "旬阳市医疗保障局",
    ];
    match level {
        1 => rnd::pick(rng, PROVINCE).to_string(),
        2 => rnd::pick(rng, CITY).to_string(),
        3 => rnd::pick(rng, COUNTY).to_string(),
        4 => format!("{town}人民政府"),
        _ => village.to_owned(),
    }
}

/// Banks that pay 惠农 subsidies in the county.
pub const BANKS: &[&str] =
    &["旬阳农村商业银行", "中国邮政储蓄银行旬阳市支行", "中国农业银行旬阳支行", "陕西信合旬阳支行"];

/// An 11-digit mobile number.
pub fn phone(rng: &mut Rng8) -> String {
    const PREFIX: &[&str] = &[
        "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "158", "159", "177", "180", "181",
        "187", "189", "191", "199",
    ];
    let p = rnd::pick(rng, PREFIX);
    format!("{p}{:08}", rnd::int(rng, 0, 99_999_999))
}

/// A 19-digit bank card number with a valid Luhn check digit, as 惠农一卡通 cards have.
pub fn bank_account(rng: &mut Rng8) -> String {
    let mut digits: Vec<u8> = b"623".to_vec();
    for _ in 0..15 {
        digits.push(b'0' + rnd::int(rng, 0, 9) as u8);
    }
    // Luhn: double every second digit from the right, counting the check digit as first.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let v = u32::from(d - b'0');
            if i % 2 == 0 {
                let x = v * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                v
            }
        })
        .sum();
    digits.push(b'0' + ((10 - sum % 10) % 10) as u8);
    String::from_utf8(digits).unwrap_or_default()
}
