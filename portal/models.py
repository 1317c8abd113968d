"""Every module's models, imported once so metadata and migrations see them all."""

from portal.api.idempotency import IdempotencyKey  # noqa: F401
from portal.api.models import ApiToken  # noqa: F401
from portal.auth.models import User, UserRole, UserSession  # noqa: F401
from portal.certification.models import (  # noqa: F401
    Application,
    Attachment,
    Certificate,
    CertificationAttempt,
    ScreeningSheet,
    ScreeningWeightSet,
    StationCodeSequence,
    StationCompliance,
    StationProfile,
    Technician,
    TierRequirement,
    TierRuleSet,
)
from portal.core.audit import AuditEntry  # noqa: F401
from portal.core.forms import UsedFormToken  # noqa: F401
from portal.core.jobs import Job  # noqa: F401
from portal.inspections.models import (  # noqa: F401
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    InspectionAnswer,
    InspectionFile,
    InspectionSetting,
    InspectionStockLine,
    Rectification,
    RectificationReminder,
    RectificationResponse,
    StationInspectionSummary,
)
from portal.reports.models import (  # noqa: F401
    DailyReport,
    DeviceModel,
    DeviceModelFact,
    FaultCategoryFact,
    FaultCode,
    PartUsed,
    RepairRecord,
    RepairResult,
    RepairType,
    ReportSetting,
    UploadBatch,
)
from portal.settlement.adjustments import Adjustment  # noqa: F401
from portal.settlement.catalogue import (  # noqa: F401
    AdjustmentRuleVersion,
    FeeRate,
    FeeSchedule,
    TierScope,
    ValidityParameters,
)
from portal.settlement.earlier import EarlierRepair, EarlierRepairImport  # noqa: F401
from portal.settlement.export import SettlementExport  # noqa: F401
from portal.settlement.models import Settlement, SettlementLine  # noqa: F401
from portal.spares.models import DepositAccount, DepositEntry  # noqa: F401
from portal.spares.stock_models import (  # noqa: F401
    OpeningStock,
    Part,
    PartFit,
    ReturnBatch,
    ReturnLine,
    Shipment,
    ShipmentLine,
    SparesSetting,
    StockCount,
    StockCountLine,
    StockImport,
    StockMovement,
    StockOnHand,
)
from portal.stations.models import Station  # noqa: F401
