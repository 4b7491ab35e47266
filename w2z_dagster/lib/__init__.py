"""Dagster-side support the definitions share: the catalog hand-off, how models look there, step retries."""
