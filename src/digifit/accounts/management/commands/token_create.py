"""``digifit manage token_create USERNAME [--name NAME] [--role ROLE]``: print a new API token once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from digifit.accounts.roles import ROLE_PERMISSIONS
from digifit.accounts.services import token_create, user_role_assign


class Command(BaseCommand):
    help = "Create an API token for a user (created if missing with --create) and print it; it is shown once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for")
        parser.add_argument("--role", choices=sorted(ROLE_PERMISSIONS), help="also give the user this role")
        parser.add_argument("--create", action="store_true", help="create the user (no password) if missing")

    def handle(self, *args, username, name, role, create, **options):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"no user {username!r}; pass --create to create one")
            user = User.objects.create_user(username=username)
        if role:
            user_role_assign(user=user, role=role)
        _, raw = token_create(user=user, name=name)
        self.stdout.write(raw)
