"""Benchmarks: scripts that print tables of measured figures, never pass/fail.

They need the ``[bench]`` extra (OR-Tools, PyVRP, psutil); the app never imports this package.
"""
