#!/usr/bin/env python
"""Run administrative tasks of the platform."""

import os
import signal
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maestrano.settings.development")
    # Exit normally on SIGTERM, so that this process lets go of the embedded
    # database and broker on its way out (Python skips that when killed).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
