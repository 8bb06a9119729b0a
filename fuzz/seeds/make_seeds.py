"""Writes the seed inputs of the fuzz targets into seeds/<target>/: `python3 make_seeds.py`.

Standard library only. The `file` target's inputs start with one byte that picks the
file name (byte % 6: persons.csv, households.xlsx, data.xls, 收入情况.csv, x.xlsx, x.xls);
the rest is the file, whose format is told by content. The XLS seed is the ingest test
fixture, copied.
"""
import io
import pathlib
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def with_check(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return first17 + "10X98765432"[total % 11]


def put(target, name, data):
    d = HERE / target
    d.mkdir(exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


HEAD = with_check("61098119700504011")
WIFE = with_check("61098119720809022")

for i, text in enumerate([
    "11010519491231002X", "11010519491231002x", "610928850312021", HEAD,
    "11010519491231002X14", "11010519491231002X0102", "6.10981E+17", " 110105194912310021 ",
]):
    put("id_number", f"seed{i}", text)

for i, text in enumerate([
    "2019年3月5日", "2019/3/5", "20190305", "2019-03-05 08:30:00", "43529", "3,120.50", "-0.5",
    "￥3120元", "汉族", "长期慢性病、04", "610981105201", "3组", "2.5亩", "是", "'0123", '="0123"',
    "2019年", "H-001", "#N/A",
]):
    put("cells", f"seed{i}", text)

put("divisions_and_codes", "codes", "code,label,since,until,note\n01,户主,,,\n02,配偶,2016,2020,旧\n")
put("divisions_and_codes", "policy", (ROOT / "data/policy/lines.csv").read_text(encoding="utf-8"))
villages = (ROOT / "data/divisions/610981/villages.csv").read_text(encoding="utf-8").splitlines()
put("divisions_and_codes", "villages", "\n".join(villages[:6]) + "\n")

PERSONS = (
    "人编号,户编号,姓名,性别,出生日期,证件类型,证件号码,与户主关系,民族,健康状况,务工时间（月）\n"
    f"P001,H001,张三,男,1970-05-04,01,{HEAD},户主,汉族,健康,6\n"
    f'P002,H001,"李,四",女,1972/8/9,居民身份证,{WIFE.lower()},配偶,01,"长期慢性病;04",10.0\n'
)
INCOMES = (
    "户编号,年度,家庭人口数,工资性收入,生产经营性支出,人均纯收入\n"
    "H001,2019,3,\"3,120.50\",100,1006.83\n"
)
put("file", "persons_utf8.csv", b"\x00" + PERSONS.encode("utf-8"))
put("file", "persons_bom_crlf.csv", b"\x00\xef\xbb\xbf" + PERSONS.replace("\n", "\r\n").encode("utf-8"))
put("file", "persons_gbk.csv", b"\x03" + PERSONS.encode("gbk"))
put("file", "persons_utf16.txt", b"\x00" + PERSONS.replace(",", "\t").encode("utf-16"))
put("file", "incomes.csv", b"\x03" + INCOMES.encode("utf-8"))
put("file", "persons.xls", b"\x02" + (ROOT / "crates/ingest/tests/fixtures/persons.xls").read_bytes())


def xlsx(rows):
    """A minimal workbook of one sheet named 户信息, cells as inline strings or numbers."""
    def col(i):
        return chr(ord("A") + i)

    def cell(r, c, v):
        ref = f"{col(c)}{r + 1}"
        if isinstance(v, (int, float)):
            return f'<c r="{ref}"><v>{v}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'

    sheet_rows = "".join(
        f'<row r="{r + 1}">' + "".join(cell(r, c, v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {ns} xmlns:r="{rel}">'
            '<sheets><sheet name="户信息" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet {ns}><sheetData>{sheet_rows}</sheetData></worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


put("file", "households.xlsx", b"\x01" + xlsx([
    ["户编号", "行政村代码", "村民小组", "户类型", "识别年度", "纳入监测日期", "耕地面积（亩）", "是否有卫生厕所"],
    ["H001", "610981105201", 3, "已脱贫户", 2014, "2019-03-05", 2.5, "是"],
    ["H002", 610981105201, "4组", "2", "2015年", 43529, "1.0", "否"],
]))


def ods(rows):
    """A minimal OpenDocument spreadsheet of one table named 家庭成员."""
    def cell(v):
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="家庭成员">'
        f"{body}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


put("file", "persons.ods", b"\x04" + ods([
    ["人编号", "户编号", "姓名", "性别", "证件号码", "与户主关系"],
    ["P001", "H001", "张三", "男", HEAD, "户主"],
    ["P002", "H001", "李四", 2, WIFE, "02"],
]))

# rules: the shipped rule files, and expressions of every level.
for f in sorted((ROOT / "data" / "rules").glob("*.toml")):
    put("rules", f.stem, f.read_text(encoding="utf-8"))
for i, text in enumerate([
    "h.income.net_per_capita < line.poverty",
    "members.exists(m, m.age >= 6 && m.age <= 15 && m.school_status == '01')",
    "size(poor_persons) * 100 < size(persons) * 3",
    "count(villages, x, x.paved_road) * 100 >= size(villages) * 97",
    "p.first_with_id == p.person_id && id_checksum_ok(p.id_number)",
]):
    put("rules", f"expr{i}", text)
