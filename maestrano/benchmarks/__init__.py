"""Speed figures of the platform, each against a ceiling measured in the same run.

One module per benchmark, each with ``run(*, base_url, seconds, progress)`` that
returns its figures; ``manage.py benchmark`` runs them by name.
"""

from . import connec_post

BENCHMARKS = {
    connec_post.NAME: connec_post.run,
}
