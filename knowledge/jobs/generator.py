"""Seeded, reproducible generator of realistic postings for the offline default and the benchmark.

The same (n, seed, as_of) always yields the same postings. Texts come from a limited set
of per-type templates (title × description × tag bundle × benefit bundle), which is what
lets the semantic index embed each distinct text once (vectors are cached by text hash).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from knowledge.jobs.gazetteer import get_gazetteer
from knowledge.jobs.models import Job, Salary
from knowledge.jobs.store import JobStore

SOURCE = "generated"


@dataclass(frozen=True)
class _Profile:
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    month: tuple[int, int]  # typical monthly pay range (yuan)
    day: tuple[int, int]
    hour: tuple[int, int]
    employment: dict[str, float]
    industry: str
    tags: tuple[str, ...]
    benefits: tuple[str, ...]


def _p(
    titles: str,
    descriptions: list[str],
    month: tuple[int, int],
    day: tuple[int, int],
    hour: tuple[int, int],
    employment: dict[str, float],
    industry: str,
    tags: str,
    benefits: str,
) -> _Profile:
    return _Profile(
        tuple(titles.split()),
        tuple(descriptions),
        month,
        day,
        hour,
        employment,
        industry,
        tuple(tags.split()),
        tuple(benefits.split()),
    )


_FULL = {"全职": 1.0}
PROFILES: dict[str, _Profile] = {
    "普工": _p(
        "普工 流水线操作工 电子厂普工 包装工 食品厂普工",
        [
            "在生产线上完成装配、检验和包装，按班组安排工作，有师傅带，上手快。",
            "负责车间产品的上下料和简单操作，两班倒，工作环境干净，长期稳定。",
            "工厂急招，站着或坐着做流水线，计件加底薪，多劳多得。",
        ],
        (4500, 7000),
        (180, 260),
        (20, 28),
        {"全职": 0.6, "日结": 0.2, "小时工": 0.15, "零工": 0.05},
        "电子制造有限公司",
        "无经验可 男女不限 退役军人优先 残疾人友好 45岁以下 可长期",
        "包吃住 五险一金 全勤奖 加班补助 包住",
    ),
    "仓储分拣": _p(
        "仓库分拣员 仓储理货员 快递分拣工 仓库打包员 物流仓管员",
        [
            "在物流仓库里按单分拣、扫码和打包，有电动叉车和流水线，夜班有补贴。",
            "负责货物入库、上架、盘点和出库，会用手持终端，细心即可。",
            "电商大促期间急招分拣打包，按件计费，当天可上岗。",
        ],
        (4500, 7500),
        (160, 260),
        (18, 26),
        {"全职": 0.5, "日结": 0.3, "小时工": 0.1, "零工": 0.1},
        "供应链管理有限公司",
        "无经验可 夜班 退役军人优先 可长期 男女不限 残疾人友好",
        "包吃住 五险一金 餐补 高温补贴 全勤奖",
    ),
    "快递员": _p(
        "快递员 快递派件员 快递收派员 同城配送员",
        [
            "负责片区内快递的揽收和派送，公司提供电动车，按件提成，片区固定。",
            "送快递上门，熟悉本地道路优先，多劳多得，月结工资。",
            "驿站派件和揽件，工作时间灵活，可带车加入。",
        ],
        (6000, 10000),
        (200, 350),
        (22, 32),
        {"全职": 0.7, "兼职": 0.15, "日结": 0.15},
        "速运有限公司",
        "无经验可 有电动车优先 退役军人优先 50岁以下 熟悉本地道路",
        "五险一金 餐补 通讯补贴 全勤奖 包住",
    ),
    "外卖骑手": _p(
        "外卖骑手 美团外卖骑手 饿了么专送骑手 跑腿配送员",
        [
            "在商圈附近送外卖，单价加冲单奖励，时间自由，可全职可兼职。",
            "平台专送骑手，站点统一排班，提供保险和装备，新人有保底。",
            "同城跑腿配送，帮用户买送取件，手机接单，当天结算。",
        ],
        (6000, 11000),
        (200, 380),
        (22, 35),
        {"全职": 0.5, "兼职": 0.3, "日结": 0.2},
        "配送服务有限公司",
        "无经验可 时间自由 有电动车优先 退役军人优先 高校毕业生",
        "意外险 餐补 冲单奖励 装备补贴",
    ),
    "保安": _p(
        "保安 小区保安 商场保安 门岗保安 工厂门卫",
        [
            "负责小区门岗值守、巡逻和来访登记，做一休一或两班倒。",
            "商场内巡查和秩序维护，处理突发情况，有保安证优先。",
            "工厂大门值守，车辆和人员出入登记，工作轻松，适合中年人。",
        ],
        (3500, 5500),
        (150, 220),
        (16, 22),
        {"全职": 0.8, "日结": 0.1, "零工": 0.1},
        "物业服务有限公司",
        "退役军人优先 无经验可 55岁以下 残疾人友好 有保安证优先",
        "包吃住 五险一金 包住 节日福利 工作服",
    ),
    "保洁": _p(
        "保洁员 物业保洁 写字楼保洁 医院保洁 商场清洁工",
        [
            "负责写字楼公共区域的清洁打扫，白班，工作不累，就近安排。",
            "小区楼道和地库的日常保洁，按排班上岗，年龄要求宽松。",
            "商场开业保洁，做几天结几天，工具由公司提供。",
        ],
        (3000, 4500),
        (130, 200),
        (15, 25),
        {"全职": 0.6, "小时工": 0.2, "日结": 0.2},
        "物业管理有限公司",
        "无经验可 60岁以下 残疾人友好 男女不限 就近安排",
        "包午餐 五险 节日福利 工作服",
    ),
    "家政": _p(
        "家政服务员 住家保姆 钟点工 家庭保洁 做饭阿姨",
        [
            "上门做家庭保洁和收纳整理，公司派单，时间灵活。",
            "住家保姆，负责做饭、打扫和照顾家人起居，雇主好相处。",
            "钟点工，每天上门两到三小时，做饭打扫，离家近。",
        ],
        (5000, 8000),
        (180, 300),
        (30, 45),
        {"全职": 0.5, "小时工": 0.35, "兼职": 0.15},
        "家政服务有限公司",
        "有经验优先 55岁以下 会做饭 持健康证 无经验可",
        "包吃住 带薪休假 培训上岗 节日福利",
    ),
    "育婴": _p(
        "育婴师 月嫂 育儿嫂 早教育婴员",
        [
            "照顾0到3岁宝宝的日常生活和早期启蒙，持育婴师证优先。",
            "月嫂，负责产妇和新生儿护理，公司统一培训，单价高。",
            "白班育儿嫂，带娃做辅食，雇主家在市区。",
        ],
        (7000, 15000),
        (300, 500),
        (35, 60),
        {"全职": 0.8, "兼职": 0.2},
        "母婴服务有限公司",
        "持证优先 有经验优先 50岁以下 培训后上岗 高校毕业生",
        "包吃住 培训上岗 带薪休假 节日福利",
    ),
    "厨师": _p(
        "厨师 中餐厨师 食堂厨师 炒锅师傅 面点师",
        [
            "负责中餐热菜的烹饪和出品，能独立掌勺，菜品稳定。",
            "单位食堂做大锅菜，早中两餐，周末休息，工作稳定。",
            "面点师，负责包子馒头和早点制作，凌晨上班。",
        ],
        (6000, 10000),
        (250, 400),
        (30, 45),
        {"全职": 0.85, "日结": 0.1, "兼职": 0.05},
        "餐饮管理有限公司",
        "有经验优先 持健康证 退役军人优先 50岁以下",
        "包吃住 五险一金 年终奖金 带薪年假",
    ),
    "帮厨": _p(
        "帮厨 厨房帮工 切配工 洗碗工 打荷",
        [
            "在后厨帮忙洗菜、切配和打下手，有师傅带，可学手艺。",
            "食堂帮厨，负责备菜、打饭和清洗餐具，白班不熬夜。",
            "饭店洗碗工，高峰时段忙，其余时间轻松。",
        ],
        (3500, 5000),
        (150, 220),
        (16, 24),
        {"全职": 0.6, "日结": 0.2, "小时工": 0.2},
        "餐饮管理有限公司",
        "无经验可 持健康证 55岁以下 残疾人友好 男女不限",
        "包吃住 包午餐 全勤奖 节日福利",
    ),
    "服务员": _p(
        "餐厅服务员 酒店服务员 传菜员 前厅服务员 收银员",
        [
            "负责餐厅点菜、上菜和收台，热情有礼貌，可学习晋升领班。",
            "酒店客房和前厅服务，排班上岗，提供员工宿舍。",
            "周末和节假日兼职服务员，按小时计薪，当天结算。",
        ],
        (4000, 6000),
        (150, 230),
        (18, 25),
        {"全职": 0.55, "兼职": 0.2, "小时工": 0.15, "日结": 0.1},
        "酒店管理有限公司",
        "无经验可 高校毕业生 形象好 35岁以下 可兼职",
        "包吃住 五险一金 全勤奖 员工餐",
    ),
    "电工": _p(
        "电工 维修电工 物业电工 水电工 高压电工",
        [
            "负责厂区设备和线路的日常维修保养，持电工证上岗。",
            "物业电工，小区水电维修和值班，做一休一。",
            "装修水电工，按项目结算，活多稳定。",
        ],
        (6000, 9500),
        (300, 450),
        (35, 55),
        {"全职": 0.75, "日结": 0.15, "零工": 0.1},
        "机电工程有限公司",
        "持电工证 退役军人优先 有经验优先 50岁以下",
        "五险一金 包住 年终奖金 工作服",
    ),
    "焊工": _p(
        "焊工 电焊工 氩弧焊工 二保焊工 钢结构焊工",
        [
            "钢结构现场焊接，持焊工证，能看懂图纸，计件工资高。",
            "工厂车间氩弧焊，焊接不锈钢件，有经验者优先。",
            "二保焊工，焊接工程机械结构件，长白班。",
        ],
        (7000, 12000),
        (300, 500),
        (35, 55),
        {"全职": 0.8, "日结": 0.2},
        "钢结构工程有限公司",
        "持焊工证 有经验优先 退役军人优先 50岁以下",
        "包吃住 五险一金 高温补贴 加班补助",
    ),
    "司机": _p(
        "货车司机 小车司机 叉车司机 网约车司机 通勤班车司机",
        [
            "驾驶公司货车在市内送货，持C1或B2驾照，路线固定。",
            "公司商务车司机，接送客户和领导，形象好、守时。",
            "仓库叉车司机，持叉车证，负责货物装卸和搬运。",
        ],
        (6000, 10000),
        (250, 400),
        (30, 45),
        {"全职": 0.8, "日结": 0.1, "兼职": 0.1},
        "运输有限公司",
        "驾龄三年以上 退役军人优先 有经验优先 50岁以下",
        "五险一金 包住 餐补 全勤奖",
    ),
    "销售": _p(
        "销售代表 门店导购 电话销售 销售顾问 业务员",
        [
            "负责门店接待和产品介绍，底薪加提成，节假日有奖金。",
            "开发和维护客户，做市场推广，能吃苦，收入上不封顶。",
            "电话销售，按公司提供的客户名单回访，坐班不外出。",
        ],
        (5000, 12000),
        (150, 300),
        (20, 35),
        {"全职": 0.85, "兼职": 0.15},
        "商贸有限公司",
        "无经验可 高校毕业生 沟通能力强 35岁以下 退役军人优先",
        "五险一金 带薪年假 年终奖金 周末双休",
    ),
    "客服": _p(
        "客服专员 电话客服 在线客服 售后客服 呼叫中心坐席",
        [
            "接听客户来电，解答问题和处理投诉，有系统培训。",
            "在线文字客服，电脑打字快，可居家办公。",
            "售后客服，负责退换货和回访，早晚班轮换。",
        ],
        (4000, 6500),
        (150, 220),
        (18, 26),
        {"全职": 0.75, "兼职": 0.25},
        "信息技术有限公司",
        "高校毕业生 无经验可 残疾人友好 普通话标准 可居家",
        "五险一金 周末双休 带薪年假 餐补",
    ),
    "会计": _p(
        "会计 出纳 财务助理 总账会计 税务会计",
        [
            "负责公司日常记账、报税和凭证整理，会用财务软件。",
            "出纳，管理现金和银行往来，细心负责。",
            "兼职会计，每月上门做账报税，可同时服务几家小企业。",
        ],
        (5000, 9000),
        (200, 350),
        (30, 50),
        {"全职": 0.8, "兼职": 0.2},
        "财务咨询有限公司",
        "持初级会计证 高校毕业生 有经验优先 女性优先",
        "五险一金 周末双休 带薪年假 年终奖金",
    ),
    "教师": _p(
        "小学语文教师 初中数学老师 英语培训讲师 幼儿园老师 职业技能培训讲师",
        [
            "负责课堂教学和课后辅导，持教师资格证，有教学经验优先。",
            "培训机构讲师，周末和晚上上课，课时费另计。",
            "幼儿园带班老师，照顾孩子的学习和生活，有寒暑假。",
        ],
        (5000, 10000),
        (200, 400),
        (50, 120),
        {"全职": 0.75, "兼职": 0.25},
        "教育科技有限公司",
        "持教师资格证 高校毕业生 普通话二级甲等 有经验优先",
        "五险一金 寒暑假 带薪年假 住房补贴",
    ),
    "护工": _p(
        "养老护理员 医院护工 陪护 失能老人护理员 康复护理员",
        [
            "在养老院照顾老人的饮食起居，有护理证优先，公司免费培训。",
            "医院陪护，照顾住院病人，二十四小时或白班可选。",
            "居家上门护理失能老人，协助翻身、喂饭和清洁。",
        ],
        (5000, 8000),
        (200, 300),
        (25, 40),
        {"全职": 0.7, "日结": 0.15, "小时工": 0.15},
        "养老服务有限公司",
        "有护理证优先 无经验可 55岁以下 培训后上岗 残疾人友好",
        "包吃住 五险 节日福利 培训上岗",
    ),
    "IT": _p(
        "Java开发工程师 前端开发工程师 软件测试工程师 运维工程师 Python开发工程师",
        [
            "负责公司业务系统的开发和维护，参与需求分析和代码评审。",
            "搭建和维护服务器与网络，处理线上故障，值班有补贴。",
            "编写测试用例，做功能和接口测试，推动缺陷修复。",
        ],
        (8000, 20000),
        (300, 600),
        (50, 120),
        {"全职": 0.9, "兼职": 0.1},
        "科技有限公司",
        "高校毕业生 本科 有经验优先 残疾人友好 可远程",
        "五险一金 年终奖金 周末双休 带薪年假 弹性工作",
    ),
    "文员": _p(
        "行政文员 前台文员 办公室文员 资料录入员 人事助理",
        [
            "负责办公室日常行政事务、文件整理和接待来访。",
            "资料录入和表格整理，会用办公软件，坐班。",
            "前台接待，接听电话和收发快递，形象好、有礼貌。",
        ],
        (4000, 6500),
        (150, 220),
        (18, 26),
        {"全职": 0.8, "兼职": 0.2},
        "企业管理有限公司",
        "高校毕业生 无经验可 残疾人友好 女性优先 会用办公软件",
        "五险一金 周末双休 带薪年假 节日福利",
    ),
}

_TYPE_WEIGHTS = {
    "普工": 10,
    "仓储分拣": 8,
    "快递员": 7,
    "外卖骑手": 7,
    "保安": 7,
    "保洁": 6,
    "家政": 5,
    "育婴": 3,
    "厨师": 4,
    "帮厨": 4,
    "服务员": 6,
    "电工": 3,
    "焊工": 3,
    "司机": 5,
    "销售": 6,
    "客服": 4,
    "会计": 3,
    "教师": 3,
    "护工": 4,
    "IT": 4,
    "文员": 4,
}
_BIG_CITIES = {
    "北京": 8,
    "上海": 8,
    "广州": 7,
    "深圳": 7,
    "杭州": 6,
    "成都": 6,
    "武汉": 5,
    "南京": 5,
    "苏州": 5,
    "重庆": 5,
    "西安": 4,
    "长沙": 4,
    "郑州": 4,
    "天津": 4,
    "宁波": 3,
    "合肥": 3,
    "青岛": 3,
    "东莞": 3,
    "佛山": 3,
    "厦门": 2,
    "福州": 2,
    "济南": 2,
    "沈阳": 2,
    "大连": 2,
    "昆明": 2,
    "南昌": 2,
    "无锡": 2,
}
_BRANDS = [
    "宏达",
    "鑫源",
    "顺安",
    "恒通",
    "华信",
    "佳美",
    "福润",
    "金盛",
    "安心",
    "万家",
    "众诚",
    "泰和",
    "新起点",
    "康宁",
    "明远",
    "博雅",
    "联创",
    "德胜",
    "长青",
    "兴旺",
    "君安",
    "汇丰源",
    "惠民",
    "鼎盛",
    "吉祥",
    "城邦",
    "诚信",
    "和顺",
    "百合",
    "益民",
]
_BUNDLES = 3  # tag bundles and benefit bundles per type: bounds the number of distinct texts
_UNIT_BY_TYPE = {"全职": "month", "兼职": "hour", "日结": "day", "零工": "day", "小时工": "hour"}


def _bundles(items: tuple[str, ...], rng: random.Random) -> list[tuple[str, ...]]:
    return [
        tuple(sorted(rng.sample(items, k=min(len(items), rng.choice((2, 3)))), key=items.index))
        for _ in range(_BUNDLES)
    ]


def generate_jobs(
    n: int, seed: int = 7, as_of: date | None = None, chunk: int = 50_000
) -> Iterator[Job]:
    """Yield ``n`` postings; the same (n, seed, as_of) gives the same postings."""
    as_of = as_of or date.today()
    gazetteer = get_gazetteer()
    types = list(_TYPE_WEIGHTS)
    type_p = np.array([_TYPE_WEIGHTS[t] for t in types], dtype=float)
    type_p /= type_p.sum()
    cities = sorted(gazetteer.cities)
    city_w = np.array([_BIG_CITIES.get(c, 0.15) for c in cities], dtype=float)
    city_w /= city_w.sum()
    # Per-type fixed bundles, drawn from their own seeded stream so they don't depend on n.
    setup = random.Random(seed)
    tag_bundles = {t: _bundles(PROFILES[t].tags, setup) for t in types}
    benefit_bundles = {t: _bundles(PROFILES[t].benefits, setup) for t in types}
    employment = {
        t: (list(PROFILES[t].employment), np.array(list(PROFILES[t].employment.values())))
        for t in types
    }
    rng = np.random.default_rng(seed)
    cum_weights = {t: (np.cumsum(w) / w.sum()).tolist() for t, (_, w) in employment.items()}
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        t_idx = rng.choice(len(types), size=size, p=type_p).tolist()
        c_idx = rng.choice(len(cities), size=size, p=city_w).tolist()
        u = rng.random((size, 8)).tolist()
        posted_ago = rng.integers(0, 75, size=size).tolist()
        validity = rng.choice(np.array([30, 45, 60, 90]), size=size).tolist()
        headcount = rng.integers(1, 21, size=size).tolist()
        for i in range(size):
            job_type = types[t_idx[i]]
            prof = PROFILES[job_type]
            city = cities[c_idx[i]]
            r = u[i]
            districts = gazetteer.districts.get(city, ())
            district = districts[int(r[0] * len(districts))] if districts else None
            kinds = employment[job_type][0]
            emp = kinds[min(len(kinds) - 1, bisect.bisect_right(cum_weights[job_type], r[1]))]
            unit = _UNIT_BY_TYPE[emp]
            low_base, high_base = {"month": prof.month, "day": prof.day, "hour": prof.hour}[unit]
            step = {"month": 500, "day": 10, "hour": 1}[unit]
            low = low_base + int(r[2] * (high_base - low_base) / step) * step
            high = low + step * (1 + int(r[3] * 4))
            posted = as_of - timedelta(days=posted_ago[i])
            title_index = int(r[4] * len(prof.titles))
            yield Job(
                title=prof.titles[title_index],
                company=f"{city}{_BRANDS[(start + i) * 7 % len(_BRANDS)]}{prof.industry}",
                city=city,
                province=gazetteer.province_of[city],
                district=district,
                job_type=job_type,
                employment_type=emp,
                salary=Salary(float(low), float(high), unit),
                tags=tag_bundles[job_type][int(r[5] * _BUNDLES)],
                benefits=benefit_bundles[job_type][int(r[6] * _BUNDLES)],
                # Titles and descriptions are written in matching order, so they agree.
                description=prof.descriptions[title_index % len(prof.descriptions)],
                requirements="",
                headcount=headcount[i],
                posted_at=posted,
                expires_at=posted + timedelta(days=validity[i]),
                source=SOURCE,
                external_id=f"{seed}-{start + i}",
            )


def generate_into(store: JobStore, n: int, seed: int = 7, as_of: date | None = None) -> int:
    """Generate ``n`` postings into ``store``; returns how many were new (re-runs add none)."""
    return store.bulk_insert(generate_jobs(n, seed=seed, as_of=as_of))
