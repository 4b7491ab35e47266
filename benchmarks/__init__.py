"""Throughput and memory of w2z against what each database allows on its own, in one command."""
