"""Settings of the idm benchmark's web server: the usual ones, plus bare views.

The server measured is the platform as configured (``BENCHMARK_BASE_SETTINGS``
names the settings module of the ``manage.py benchmark`` process), with one
change: its URLs also hold the bare views the figures are compared with (see
``maestrano.benchmarks.urls``). No other server loads this module, so those
views are never served in production.
"""

import importlib
import os

_base = importlib.import_module(os.environ["BENCHMARK_BASE_SETTINGS"])
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

ROOT_URLCONF = "maestrano.benchmarks.urls"
