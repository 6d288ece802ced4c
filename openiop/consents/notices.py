"""The words patients sign and the notice every Part 2 disclosure carries. Text lives here, not in the database.

Each consent stores the ``FORM_VERSION`` it was signed under, so a later change of these words never rewrites
what someone agreed to: bump the version when the text changes and keep the old text for old versions.
"""

from __future__ import annotations

from openiop.consents.models import ConsentKind, RedisclosureForm

FORM_VERSION = "2026.1"

# 42 CFR §2.32. The short form is quoted verbatim (docs/clinical-rules.md#redisclosure-notice). The long statement
# opens with the regulation's own first sentence and says "is NOT sufficient" as the rule does; the sentences between
# are this project's summary of what §2.32 covers (the proceedings bar, the TPO and covered-entity exceptions) and
# must be checked against the current eCFR text before a program relies on them.
SHORT_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
LONG_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2). "
    "These rules prohibit you from using or disclosing this record, or testimony that describes the information "
    "in it, in any civil, criminal, administrative or legislative proceeding against the patient, unless the "
    "patient gives written consent for that use or a court order under 42 CFR part 2 subpart E allows it. "
    "Beyond that, you may use or disclose this record only as the patient's written consent allows, or, if you "
    "are a HIPAA covered entity or business associate that received it for treatment, payment or health care "
    "operations, as the HIPAA Privacy Rule permits. A general authorization for the release of medical or other "
    "information is NOT sufficient to permit any other use or disclosure of this record."
)
ATTACHMENT_NOTE = "A copy of the consent, or a clear explanation of its scope, accompanies this disclosure."


def redisclosure_notice(form: str = RedisclosureForm.SHORT) -> str:
    """The §2.32 statement in the chosen form ("short" or "long")."""
    if form == RedisclosureForm.LONG:
        return LONG_NOTICE
    if form == RedisclosureForm.SHORT:
        return SHORT_NOTICE
    raise ValueError(f"unknown redisclosure notice form {form!r}")


REVOCATION_INSTRUCTIONS = (
    "You may revoke this consent at any time by telling the program in writing: hand or send a signed, dated "
    "note to the front desk or your clinician, or write your revocation on a copy of this form. It takes effect "
    "as soon as the program records it, except for information already shared in reliance on it."
)

# What the patient reads before signing, per kind. Part 2 consents and releases add their scope (who, what, why,
# until when) around these words on the page and in the signed PDF.
STATEMENTS: dict[str, str] = {
    ConsentKind.TREATMENT: (
        "I agree to take part in the program's assessment and treatment, which may include group therapy, "
        "individual and family sessions, education workshops and standardized questionnaires. The program has "
        "explained the treatment, its expected benefits and risks, and the alternatives. I may ask questions at "
        "any time and may stop treatment at any time."
    ),
    ConsentKind.HIPAA_NOTICE: (
        "I acknowledge that I was offered a copy of the program's Notice of Privacy Practices, which describes "
        "how my health information may be used and disclosed, my right to request restrictions, and how to "
        "get access to my records."
    ),
    ConsentKind.TELEHEALTH: (
        "I agree to receive some services by secure video or telephone. I understand that telehealth has limits "
        "(connection problems, privacy of my own surroundings), that I may ask for in-person services instead, "
        "and that the program will tell me what to do in an emergency during a remote session."
    ),
    ConsentKind.PART2: (
        "I authorize the program named below to disclose the substance use disorder information described below "
        "to the recipients named below, for the purposes named below. I understand that my substance use "
        "disorder records are protected by federal law (42 CFR part 2) and cannot be disclosed without my "
        "written consent unless the regulations allow it. My treatment does not depend on signing this consent."
    ),
    ConsentKind.RELEASE: (
        "I authorize the program named below to share the information described below with the person or "
        "organization named below, for the purposes named below, until this release expires or I revoke it. "
        "My treatment does not depend on signing this release."
    ),
}

SIGNATURE_ATTESTATION = "I have read this form (or had it read to me), my questions were answered, and I sign it."
