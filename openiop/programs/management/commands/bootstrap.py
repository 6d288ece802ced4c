from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from openiop.accounts.actions import do_create_staff
from openiop.accounts.models import User
from openiop.core.roles import Role
from openiop.programs.actions import do_create_organization
from openiop.programs.models import Organization


class Command(BaseCommand):
    help = (
        "Create the organization and its first system administrator on a new installation. The password is asked "
        "for, or read from OPENIOP_ADMIN_PASSWORD (for automated installs)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="the organization's name")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(username=options["username"]).exists():
            raise CommandError(f"The username {options['username']!r} is taken.")
        password = os.environ.get("OPENIOP_ADMIN_PASSWORD") or getpass.getpass("Password for the administrator: ")
        probe = User(username=options["username"], email=options["email"])
        try:
            validate_password(password, probe)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with transaction.atomic():
            org = Organization.objects.filter(name=options["organization"]).first() or do_create_organization(
                acting_user=None, name=options["organization"]
            )
            do_create_staff(
                acting_user=None,
                organization=org,
                username=options["username"],
                password=password,
                role=Role.SYSADMIN,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        self.stdout.write(
            f"Created {options['username']} (system administrator) for {org.name}. Sign in and add sites, programs, "
            "tracks and staff under Administration."
        )
