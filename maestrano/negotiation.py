"""Content negotiation for the platform's APIs: every answer is JSON.

The APIs have one renderer, so there is nothing to choose; reading the client's
``Accept`` header on every request would only cost time, and refusing a client
that asks for something else (406) would break SDKs that send ``Accept: text/xml``
or nothing useful. Request bodies are still matched to the view's parsers.
"""

from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation


class JsonAnswers(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
