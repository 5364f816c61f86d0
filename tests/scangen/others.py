"""Pages that are no form, for mixed batches: a ruled table of another kind (English
Name/Date/Amount/Remarks tables or Chinese lists such as 资产清查明细表 and 会议签到表) and
a blank page. The extractor should turn them away instead of making forms of them.

render_other_page(kind, rng, dpi) -> (clean PIL page, record); kind 'table' or 'blank'.
The record says what was drawn (it goes to the truth's render.other_pages)."""
from PIL import Image, ImageDraw

from .layout import A4_MM, MM_PER_INCH, wrap_text
from .render import choose_fonts

OTHER_KINDS = ('table', 'blank')

ENGLISH_TITLES = ['Expense Report', 'Payment Schedule', 'Equipment Inventory', 'Travel Claims',
                  'Reimbursement Summary', 'Purchase Orders']
ENGLISH_NAMES = ['Li Wei', 'Zhang Min', 'Wang Fang', 'Chen Jie', 'Liu Yang', 'Zhao Lei', 'Sun Li',
                 'Zhou Qiang', 'Wu Hong', 'Xu Jing', 'Maria Lopez', 'John Smith', 'Anna Berg',
                 'Tom Baker', 'Office Depot', 'City Print Co.', 'Green Catering Ltd.']
ENGLISH_REMARKS = ['Paid', 'Pending', 'Approved', 'Travel', 'Office supplies', 'Printing',
                   'Conference fee', 'Returned', 'See attached invoice', '', '']

CN_SURNAMES = '王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗'
CN_GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华'
CN_UNITS = ['区财政局', '区教委', '区卫健委', '区科信局', '区民政局', '街道办事处', '区文旅局',
            '区生态环境局', '区城管委', '区商务局']
CN_POSTS = ['科长', '副科长', '科员', '主任', '副主任', '干部', '会计', '出纳', '']
ASSETS = [('台式计算机', 'ThinkCentre M720', '台'), ('笔记本电脑', 'ThinkPad E14', '台'),
          ('激光打印机', 'HP M404dn', '台'), ('复印机', 'Canon iR2625', '台'),
          ('办公桌', '1.6m', '张'), ('文件柜', '四门', '组'), ('空调', '格力 KFR-35', '台'),
          ('投影仪', 'Epson CB-X06', '台'), ('会议椅', '网面', '把'), ('碎纸机', '科密 C-638', '台')]
PLACES = ['201办公室', '305办公室', '档案室', '会议室', '机房', '财务室', '库房']
SUPPLIES = ['A4复印纸', '签字笔', '文件夹', '订书机', '硒鼓', '档案盒', '笔记本', '胶水', '便签纸']


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def _date(rng, year, cn=False):
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    return f'{year}年{month}月{day}日' if cn else f'{year}-{month:02d}-{day:02d}'


def _cn_name(rng):
    return _pick(rng, CN_SURNAMES) + ''.join(_pick(rng, CN_GIVEN) for _ in range(int(rng.integers(1, 3))))


def english_table(rng, year):
    n = int(rng.integers(5, 16))
    numbered = rng.random() < 0.5
    head = (['No.'] if numbered else []) + ['Name', 'Date', 'Amount', 'Remarks']
    weights = ([0.08] if numbered else []) + [0.28, 0.18, 0.16, 0.3]
    rows = []
    for i in range(n):
        amount = f'{float(rng.uniform(20, 25000)):,.2f}'
        row = [_pick(rng, ENGLISH_NAMES), _date(rng, year), amount, _pick(rng, ENGLISH_REMARKS)]
        rows.append(([str(i + 1)] if numbered else []) + row)
    if rng.random() < 0.5:
        total = sum(float(r[-2].replace(',', '')) for r in rows)
        rows.append(([''] if numbered else []) + ['Total', '', f'{total:,.2f}', ''])
    return _pick(rng, ENGLISH_TITLES), None, head, weights, rows


def asset_table(rng, year):
    n = int(rng.integers(5, 16))
    head = ['序号', '资产编号', '资产名称', '规格型号', '数量', '金额（元）', '存放地点', '备注']
    weights = [0.06, 0.15, 0.15, 0.17, 0.07, 0.13, 0.14, 0.13]
    rows = []
    for i in range(n):
        name, model, unit = _pick(rng, ASSETS)
        count = int(rng.integers(1, 6))
        rows.append([str(i + 1), f'{year}{int(rng.integers(1000, 9999))}', name, model, f'{count}{unit}',
                     f'{count * float(rng.uniform(300, 9000)):.2f}', _pick(rng, PLACES),
                     _pick(rng, ['', '', '在用', '闲置', '待报废'])])
    sub = f'填报单位：{_pick(rng, CN_UNITS)}    清查日期：{_date(rng, year, cn=True)}'
    return '资产清查明细表', sub, head, weights, rows


def sign_in_table(rng, year):
    n = int(rng.integers(6, 16))
    filled = int(rng.integers(3, n + 1))
    head = ['序号', '姓名', '单位', '职务', '联系电话', '签到时间']
    weights = [0.08, 0.15, 0.25, 0.14, 0.22, 0.16]
    rows = []
    for i in range(n):
        if i < filled:
            rows.append([str(i + 1), _cn_name(rng), _pick(rng, CN_UNITS), _pick(rng, CN_POSTS),
                         f'1{int(rng.integers(30, 90))}{int(rng.integers(10000000, 99999999))}',
                         f'{int(rng.integers(8, 10))}:{int(rng.integers(0, 60)):02d}'])
        else:
            rows.append([str(i + 1), '', '', '', '', ''])
    sub = f'会议名称：{year}年度预算绩效管理工作会    时间：{_date(rng, year, cn=True)}'
    return '会议签到表', sub, head, weights, rows


def supplies_table(rng, year):
    n = int(rng.integers(5, 16))
    head = ['序号', '领用日期', '物品名称', '数量', '领用人', '备注']
    weights = [0.08, 0.2, 0.22, 0.12, 0.16, 0.22]
    rows = [[str(i + 1), _date(rng, year, cn=True), _pick(rng, SUPPLIES), str(int(rng.integers(1, 20))),
             _cn_name(rng), ''] for i in range(n)]
    return '办公用品领用登记表', None, head, weights, rows


TABLES = {'english': english_table, 'assets': asset_table, 'sign_in': sign_in_table,
          'supplies': supplies_table}


def _page_size(dpi):
    return tuple(int(round(mm / MM_PER_INCH * dpi)) for mm in A4_MM)


def draw_table_page(rng, dpi):
    """A ruled table page that is no form; (image, record)."""
    s = dpi / 200.0
    year = str(rng.choice(['2023', '2024', '2024', '2025']))
    table_kind = str(rng.choice(list(TABLES), p=[0.35, 0.25, 0.25, 0.15]))
    title, sub, head, weights, rows = TABLES[table_kind](rng, year)
    body, title_font = choose_fonts(rng)
    font_px = float(rng.uniform(9.5, 12)) * dpi / 72.0
    font = body.at(font_px)
    page_w, page_h = _page_size(dpi)
    ink = int(rng.integers(0, 40))
    width = int(rng.uniform(1250, 1420) * s)
    x0 = int((page_w - width) / 2 + rng.uniform(-20, 20) * s)
    line_px = max(1, int(round(float(rng.choice([1.5, 2, 2.5])) * s)))
    image = Image.new('L', (page_w, page_h), 255)
    draw = ImageDraw.Draw(image)
    y = int(rng.uniform(120, 180) * s)
    title_px = float(rng.uniform(16, 21)) * dpi / 72.0
    tfont = title_font.at(title_px)
    draw.text((page_w / 2 - tfont.getlength(title) / 2, y), title, font=tfont, fill=ink, anchor='lt')
    y += int(title_px * 1.8)
    if sub:
        draw.text((x0, y), sub, font=font, fill=ink, anchor='lt')
        y += int(font_px * 1.9)
    total = sum(weights)
    xs = [x0]
    for w in weights:
        xs.append(xs[-1] + int(round(width * w / total)))
    xs[-1] = x0 + width
    pad = 6 * s
    row_h = font_px * float(rng.uniform(1.9, 2.5))
    bottom = page_h - int(130 * s)
    drawn = 0
    for r, cells in enumerate([head] + rows):
        lines = [wrap_text(text, font, xs[j + 1] - xs[j] - 2 * pad) if text else []
                 for j, text in enumerate(cells)]
        h = max(row_h, max(len(ls) for ls in lines) * font_px * 1.25 + 2 * pad)
        if y + h > bottom:
            break
        for j, cell_lines in enumerate(lines):
            draw.rectangle([xs[j], y, xs[j + 1], y + h], outline=ink, width=line_px)
            top = y + h / 2 - len(cell_lines) * font_px * 1.25 / 2
            for k, line in enumerate(cell_lines):
                cx = (xs[j] + xs[j + 1]) / 2 - font.getlength(line) / 2
                draw.text((cx, top + (k + 0.5) * font_px * 1.25), line, font=font, fill=ink, anchor='lm')
        y += h
        drawn = r
    record = {'table': table_kind, 'title': title, 'columns': len(head), 'rows': drawn,
              'fonts': {'body': body.id, 'title': title_font.id}}
    return image, record


def render_other_page(kind, rng, dpi=200):
    """(clean page image, record) of a non-form page: 'table' or 'blank'."""
    if kind == 'table':
        return draw_table_page(rng, dpi)
    if kind == 'blank':
        return Image.new('L', _page_size(dpi), 255), {}
    raise ValueError(f'other page kind must be one of {OTHER_KINDS}')

