from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.api.models import ApiToken, hash_token
from openiop.core import audit
from openiop.core.models import AuditAction


class Command(BaseCommand):
    help = "Create, list or revoke API bearer tokens. A new token is printed once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="op", required=True)
        create = sub.add_parser("create", help="create a token acting as a staff user")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what will use it")
        create.add_argument("--days", type=int, default=365, help="expiry in days (0 = never)")
        create.add_argument(
            "--recipient",
            default="",
            help="an outside system: who its reads go to (treating_provider, payer, provider:<organization>[|<name>]);"
            " every patient record it reads then needs a consent and goes on the accounting of disclosures",
        )
        create.add_argument("--recipient-name", default="", help="the recipient's name and address, as patients see it")
        create.add_argument("--purpose", default="treatment", choices=["treatment", "payment", "operations", "other"])
        listing = sub.add_parser("list", help="list a user's tokens")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="revoke a token by its id")
        revoke.add_argument("token_id")

    def handle(self, *args: Any, **options: Any) -> None:
        op = options["op"]
        if op == "revoke":
            token = ApiToken.objects.filter(public_id=options["token_id"]).first()
            if token is None:
                raise CommandError("No token with that id.")
            with transaction.atomic():
                token.revoked_at = timezone.now()
                token.save(update_fields=["revoked_at", "updated_at"])
                audit.record(
                    action=AuditAction.DEACTIVATED,
                    acting_user=None,
                    obj=token,
                    organization_id=token.user.organization_id,
                )
            self.stdout.write(f"revoked {token}")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        if op == "list":
            for token in user.api_tokens.all():
                state = "revoked" if token.revoked_at else ("active" if token.is_usable else "expired")
                self.stdout.write(
                    f"{token.public_id}  {token.hint}…  {token.name}  {state}  "
                    f"last used {token.last_used_at or 'never'}"
                )
            return
        recipient = options["recipient"].strip()
        if recipient and not recipient.startswith(("treating_provider", "payer", "provider:")):
            raise CommandError("--recipient: use treating_provider, payer or provider:<organization>[|<name>].")
        raw = ApiToken.generate()
        days = options["days"]
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=options["name"],
                token_hash=hash_token(raw),
                hint=raw[:12],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                recipient=recipient,
                recipient_name=options["recipient_name"],
                purpose=options["purpose"],
            )
            audit.record(action=AuditAction.CREATED, acting_user=None, obj=token, organization_id=user.organization_id)
        self.stdout.write(f"token id {token.public_id}; copy the secret now, it is not shown again:")
        self.stdout.write(raw)
