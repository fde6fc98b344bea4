import json

from django.core.management.base import BaseCommand

from hub.demo import DEFAULT_RECEIVER_URL, demo_load


class Command(BaseCommand):
    help = "Create the demo tenant, company, user and the apps Invoicer and Ledger."

    def add_arguments(self, parser):
        parser.add_argument(
            "--receiver-url",
            help="Host where the demo apps receive webhooks from now on (default: "
            f"where they already do, {DEFAULT_RECEIVER_URL} on the first run).",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print the demo data as JSON.",
        )

    def handle(self, *args, receiver_url, as_json, **options):
        demo = demo_load(receiver_url=receiver_url)
        if as_json:
            self.stdout.write(json.dumps(demo))
            return

        self.stdout.write(
            f"Demo login: {demo['user']['email']} / {demo['user']['password']}"
        )
        self.stdout.write(f"Organisation: {demo['organization']['uid']}")
        for name, app in demo["apps"].items():
            self.stdout.write(
                f"{name}: api_id={app['api_id']} api_key={app['api_key']} "
                f"group_id={app['group_id']}"
            )
        self.stdout.write(f"Webhooks go to {demo['receiver_url']}")
