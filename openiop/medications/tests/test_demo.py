"""The demo's medication lists: substance-use patients on MOUD (buprenorphine/naloxone, methadone through an OTP
with its coordination and consent, extended-release naltrexone), allergies or "no known allergies", a signed intake
reconciliation each; mental-health patients on a few psychiatric medications (a second run adding nothing is core's
demo test)."""

from __future__ import annotations

from openiop.core.audit import verify_chain
from openiop.medications.actions import coordination_release
from openiop.medications.models import Allergy, Medication, MoudCoordination, NoKnownAllergies, Reconciliation
from openiop.medications.queries import on_moud
from openiop.programs.models import Program


def test_the_demo_medication_lists(seeded_demo):
    org = seeded_demo.organization
    meds = Medication.objects.filter(patient__organization=org)
    assert seeded_demo.seeded["medications"] == meds.count() > 0
    sud = meds.filter(episode__program__focus__in=["substance_use", "co_occurring"])
    keys = set(sud.filter(is_moud=True).values_list("formulary_key", flat=True))
    assert keys == {"buprenorphine-naloxone-film", "methadone-otp", "naltrexone-er-injection"}
    assert sud.filter(formulary_key="buprenorphine-naloxone-film").values("patient").distinct().count() >= 2
    mh = meds.filter(episode__program__focus=Program.Focus.MENTAL_HEALTH)
    assert mh.exists() and not mh.filter(is_moud=True).exists()

    patients = set(sud.values_list("patient", flat=True))
    reconciled = set(
        Reconciliation.objects.filter(patient__in=patients, occasion="intake").values_list("patient", flat=True)
    )
    assert reconciled == patients
    asked = set(Allergy.objects.filter(patient__in=patients).values_list("patient", flat=True)) | set(
        NoKnownAllergies.objects.filter(patient__in=patients).values_list("patient", flat=True)
    )
    assert asked == patients

    otp = MoudCoordination.objects.get(patient__organization=org, otp_name__startswith="Harbor")
    release = coordination_release(otp, "otp")
    assert otp.consent is not None and release is not None and release.allowed and otp.last_dose_on is not None
    assert on_moud(otp.patient, seeded_demo.today)
    prescribers = MoudCoordination.objects.filter(patient__organization=org, prescriber_name="Dr. Ana Ortiz")
    releases = [coordination_release(c, "prescriber") for c in prescribers]
    # Every demo substance-use patient signed a Part 2 consent for their treating providers at admission.
    assert len(releases) >= 2 and all(r is not None and r.allowed for r in releases)
    assert all(c.consent is not None for c in prescribers)
    assert verify_chain() == []
