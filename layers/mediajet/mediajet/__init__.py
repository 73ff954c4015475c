"""MediaJet: a self-hosted media-processing API, wire-compatible with the Ittybit Jobs API."""

__version__ = "0.1.0"
