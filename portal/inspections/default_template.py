"""The default checklist (SPEC 4.1, after the rule book's on-site evaluation standard)."""

from __future__ import annotations

CODE = "standard"
NAME = ("授权服务网点现场检查表", "Authorized service outlet on-site checklist")

# (title zh, title en, [(text zh, text en, max score, critical, photo required, stock count)])
SECTIONS = [
    (
        "记录与报表",
        "Records and reports",
        [
            ("日报按时、完整上报", "Daily reports complete and on time", 5, False, False, False),
            (
                "维修记录完整（序列号、故障、处理措施、客户签字）",
                "Repair records complete (serial, fault, action, customer signature)",
                5,
                False,
                False,
                False,
            ),
            ("回访记录齐全", "Return-visit records kept", 5, False, False, False),
            ("档案管理有序", "Archive in order", 5, False, False, False),
        ],
    ),
    (
        "维修管理",
        "Repair management",
        [
            ("认证工程师在岗", "Certified engineers on duty", 5, False, False, False),
            (
                "按标准流程作业（接机、检测、报价、客户确认、维修、质检、交机）",
                "Standard process followed (intake, diagnosis, quote, customer confirmation, "
                "repair, quality check, delivery)",
                10,
                False,
                False,
                False,
            ),
            ("工具和仪器完好", "Tools and instruments in order", 5, False, True, False),
            ("重复维修有跟进", "Repeat repairs followed up", 10, False, False, False),
        ],
    ),
    (
        "备件管理",
        "Spare parts",
        [
            (
                "库存与台账相符（抽盘部分备件）",
                "Stock on hand matches the ledger (stock count of sampled parts)",
                10,
                False,
                False,
                True,
            ),
            (
                "坏件已标识并按时返还",
                "Defective parts tagged and returned on time",
                5,
                False,
                False,
                False,
            ),
            ("备件存放干燥、防静电", "Storage dry and antistatic", 5, False, True, False),
            (
                "无假冒或兼容配件",
                "No counterfeit or compatible parts",
                10,
                True,
                True,
                False,
            ),
        ],
    ),
    (
        "店面形象",
        "Storefront image",
        [
            ("授权标识规范", "Authorized signage", 5, False, True, False),
            (
                "价目表和服务承诺公示",
                "Price list and service commitments displayed",
                5,
                False,
                True,
                False,
            ),
            ("接待区整洁", "Reception clean", 5, False, False, False),
            ("员工统一着装并佩戴工牌", "Staff in uniform with badges", 5, False, False, False),
        ],
    ),
]
