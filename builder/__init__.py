"""quotes: a quote attribution dataset builder.

Data flows one way: ``ingest`` -> ``propose`` -> ``annotate`` -> ``export``.
"""
__version__ = "0.1.0"
