"""``manage.py benchmark``: speed figures, each next to a ceiling of the same run."""

import json
import sys
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError

from maestrano import launcher
from maestrano.benchmarks import BENCHMARKS
from maestrano.benchmarks.measure import BenchmarkFailed
from maestrano.benchmarks.server import web_server


class Command(BaseCommand):
    help = (
        "Run benchmarks (default: all) against a web server started for the run, or "
        "against --url, which must use this database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}"
        )
        parser.add_argument(
            "--url", help="Measure this server instead of starting one."
        )
        parser.add_argument(
            "--seconds",
            type=float,
            default=10.0,
            help="How long each measurement lasts (default 10).",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help="Print one JSON object per figure.",
        )

    def handle(self, *args, names, url, seconds, as_json, **options):
        unknown = sorted(set(names) - set(BENCHMARKS))
        if unknown:
            raise CommandError(
                f"Unknown benchmark {', '.join(unknown)}; "
                f"there are {', '.join(BENCHMARKS)}."
            )
        if seconds <= 0:
            raise CommandError("--seconds must be more than 0.")

        self.progress_shown = False
        server = nullcontext(url) if url else web_server()
        try:
            with server as base_url:
                for name in names or BENCHMARKS:
                    figures = BENCHMARKS[name](
                        base_url=base_url, seconds=seconds, progress=self.progress
                    )
                    self.progress_clear()
                    for figure in figures:
                        self.stdout.write(
                            json.dumps(figure.as_json()) if as_json else figure.line()
                        )
        except (BenchmarkFailed, launcher.StartFailed) as failure:
            self.progress_clear()
            raise CommandError(str(failure)) from None
        except KeyboardInterrupt:
            self.progress_clear()
            raise CommandError("Interrupted; what the run wrote is deleted.") from None

    def progress(self, text):
        # Only a terminal shows the running count; logs and pipes get the results.
        if sys.stderr.isatty():
            self.stderr.write(f"\r{text:<72}", style_func=_plain, ending="")
            self.stderr.flush()
            self.progress_shown = True

    def progress_clear(self):
        if self.progress_shown:
            self.stderr.write(f"\r{'':<72}\r", style_func=_plain, ending="")
            self.progress_shown = False


def _plain(text):
    # Progress is not an error: no red, whatever stderr's default style.
    return text
