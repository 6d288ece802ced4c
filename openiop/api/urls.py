from openiop.api import contract, disclosures, problems
from openiop.api.attendance import router as attendance_router
from openiop.api.auth import AUTH
from openiop.api.billing import router as billing_router
from openiop.api.claims import router as claims_router
from openiop.api.consents import router as consents_router
from openiop.api.discharge import router as discharge_router
from openiop.api.eligibility import router as eligibility_router
from openiop.api.intake import router as intake_router
from openiop.api.labs import router as labs_router
from openiop.api.ledger import router as ledger_router
from openiop.api.measures import router as measures_router
from openiop.api.medications import router as medications_router
from openiop.api.notes import router as notes_router
from openiop.api.plans import router as plans_router
from openiop.api.recovery import router as recovery_router
from openiop.api.referrals import router as referrals_router
from openiop.api.routers import router
from openiop.api.scheduling import router as scheduling_router
from openiop.api.skills import router as skills_router
from openiop.api.ur_packet import router as ur_packet_router
from openiop.api.utilization import router as utilization_router
from openiop.api.worklist import router as worklist_router

api = contract.OpenIopApi(
    title="OpenIOP API",
    version="1",
    description="Staff API for OpenIOP. Authenticate with the staff session (plus CSRF token) or a bearer token "
    "created with `openiop api_token create`. Errors are RFC 9457 problem details naming the fields at fault.",
    urls_namespace="api",
    auth=AUTH,
)
problems.install(api)
contract.install(api)
api.add_router("", router)
api.add_router("", scheduling_router)
api.add_router("", attendance_router)
api.add_router("", worklist_router)
api.add_router("", billing_router)
api.add_router("", measures_router)
api.add_router("", referrals_router)
api.add_router("", intake_router)
api.add_router("", consents_router)
api.add_router("", plans_router)
api.add_router("", notes_router)
api.add_router("", discharge_router)
api.add_router("", skills_router)
api.add_router("", recovery_router)
api.add_router("", labs_router)
api.add_router("", utilization_router)
api.add_router("", ur_packet_router)
api.add_router("", claims_router)
api.add_router("", eligibility_router)
api.add_router("", ledger_router)
api.add_router("", medications_router)
disclosures.install(api)
api.add_router("", "openiop.api.breakglass.router")
