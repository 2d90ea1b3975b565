"""The service layer: the only code that decides and writes, for pages, the API, the CLI and the worker.

Services take plain values and return models or plain values: they never read `flask.request`
and never import from `moderation.pages` or `moderation.api`.
"""
