"""First-run preparation: migrate, make the cache table, load the demo, and create a first
user if none exists."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from dashboard.files import private_file


class Command(BaseCommand):
    help = (
        "Migrate, load the demo responses, and create an admin user (printing its password once)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo")
        parser.add_argument(
            "--password-to-file",
            action="store_true",
            help="write the first user's password to DATA_DIR/first-admin-password (0600) and "
            "print only that path (`make serve`: its output is the service's log)",
        )

    def handle(
        self, *args: Any, no_demo: bool = False, password_to_file: bool = False, **options: Any
    ) -> None:
        call_command("migrate", verbosity=0)
        # The database cache (CACHE_URL db://…, the default) shares the fetch rate limit.
        call_command("createcachetable", verbosity=0)
        if not no_demo:
            call_command("load_demo", stdout=self.stdout, stderr=self.stderr)
        users = get_user_model()
        if users.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser("admin", "", password)
        line = "=" * 60
        if password_to_file:
            path = settings.DATA_DIR / "first-admin-password"
            path.unlink(missing_ok=True)  # one of an earlier database: this one replaces it
            private_file(path, f"username: admin\npassword: {password}\n")
            self.stdout.write(
                f"{line}\nCreated the first user, admin. Its password is in {path} (readable by "
                f"this user alone); log in at /accounts/login/, change it, delete the file.\n{line}"
            )
            return
        self.stdout.write(
            f"{line}\nCreated the first user. Log in at /accounts/login/\n"
            f"  username: admin\n  password: {password}\n"
            f"This password is shown only once; change it in the admin.\n{line}"
        )
