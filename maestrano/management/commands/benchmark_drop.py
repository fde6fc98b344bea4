"""``manage.py benchmark_drop``: delete the data benchmarks keep between runs."""

from django.core.management.base import BaseCommand, CommandError

from maestrano.benchmarks import connec_query

# Benchmarks whose data takes too long to load again on every run.
KEPT_DATA = {connec_query.NAME: connec_query.data_drop}


class Command(BaseCommand):
    help = "Delete what benchmarks keep for their next run (default: all of it)."

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", metavar="NAME", help=f"any of {', '.join(KEPT_DATA)}"
        )

    def handle(self, *args, names, **options):
        unknown = sorted(set(names) - set(KEPT_DATA))
        if unknown:
            raise CommandError(
                f"{', '.join(unknown)} keeps no data; only {', '.join(KEPT_DATA)} do."
            )
        for name in names or KEPT_DATA:
            deleted = KEPT_DATA[name](progress=self._progress)
            self.stdout.write(f"{name}: deleted {deleted} records")

    def _progress(self, text):
        self.stderr.write(text, style_func=str)
