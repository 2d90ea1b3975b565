"""The JSON API under /api/v1 and its OpenAPI document: the same services as the pages, as JSON."""
